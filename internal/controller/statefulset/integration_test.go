package statefulset_test

import (
	"context"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/statefulset"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// cluster is a control plane without scheduler plus the StatefulSet
// controller, a pod cache the test waits on, and the order in which pods
// started terminating.
type cluster struct {
	cfg     *rest.Config
	cs      kubernetes.Interface
	pods    cache.Indexer
	changed chan struct{}

	mu      sync.Mutex
	deleted []string
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

func startCluster(t *testing.T) *cluster {
	t.Helper()
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler = true
		c.Controllers.Disabled = []string{"statefulset"} // this test runs its own
	})
	cfg := srv.AdminConfig()
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(cs, 0)
	c, err := statefulset.New(statefulset.Config{
		Client:       cs,
		StatefulSets: factory.Apps().V1().StatefulSets(),
		Pods:         factory.Core().V1().Pods(),
		Claims:       factory.Core().V1().PersistentVolumeClaims(),
		Revisions:    factory.Apps().V1().ControllerRevisions(),
		Logger:       slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := &cluster{cfg: cfg, cs: cs, changed: make(chan struct{}, 1)}
	podInf := factory.Core().V1().Pods().Informer()
	cl.pods = podInf.GetIndexer()
	notify := func() {
		select {
		case cl.changed <- struct{}{}:
		default:
		}
	}
	if _, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { notify() },
		UpdateFunc: func(o, n any) {
			if o.(*corev1.Pod).DeletionTimestamp == nil && n.(*corev1.Pod).DeletionTimestamp != nil {
				cl.terminating(n.(*corev1.Pod).Name)
			}
			notify()
		},
		DeleteFunc: func(o any) {
			if p, ok := o.(*corev1.Pod); ok && p.DeletionTimestamp == nil {
				cl.terminating(p.Name)
			}
			notify()
		},
	}); err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, 2) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
		factory.Shutdown()
	})
	return cl
}

func (cl *cluster) terminating(name string) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.deleted = append(cl.deleted, name)
}

// deletionOrder lists the pods whose name has the prefix in the order
// they started terminating.
func (cl *cluster) deletionOrder(prefix string) []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var out []string
	for _, n := range cl.deleted {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// until re-checks cond after every pod change (or half a second, for
// state read from the API) until it holds.
func (cl *cluster) until(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-cl.changed:
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			for _, o := range cl.pods.List() {
				p := o.(*corev1.Pod)
				t.Logf("pod %s phase=%s deleting=%v labels=%v", p.Name, p.Status.Phase, p.DeletionTimestamp != nil, p.Labels)
			}
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

func (cl *cluster) pod(name string) *corev1.Pod {
	o, ok, _ := cl.pods.GetByKey("default/" + name)
	if !ok {
		return nil
	}
	return o.(*corev1.Pod)
}

// kubelet plays the node agent once: terminating pods are removed, and
// pods named in ready (all pods if ready is nil) become Running and Ready.
func (cl *cluster) kubelet(ctx context.Context, t *testing.T, ready []string) {
	t.Helper()
	for _, o := range cl.pods.List() {
		p := o.(*corev1.Pod)
		switch {
		case p.DeletionTimestamp != nil:
			err := cl.cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
			if err != nil && !apierrors.IsNotFound(err) {
				t.Logf("removing %s: %v", p.Name, err)
			}
		case p.Status.Phase != corev1.PodRunning && (ready == nil || slices.Contains(ready, p.Name)):
			p = p.DeepCopy()
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
			if _, err := cl.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
				t.Logf("marking %s ready: %v", p.Name, err)
			}
		}
	}
}

func statefulSet(name string, replicas int32) *appsv1.StatefulSet {
	lbls := map[string]string{"app": name}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To(replicas),
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: lbls},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1"}}},
			},
		},
	}
}

func (cl *cluster) get(ctx context.Context, t *testing.T, name string) *appsv1.StatefulSet {
	t.Helper()
	set, err := cl.cs.AppsV1().StatefulSets("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func (cl *cluster) update(ctx context.Context, t *testing.T, name string, mutate func(*appsv1.StatefulSet)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		set, err := cl.cs.AppsV1().StatefulSets("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(set)
		_, err = cl.cs.AppsV1().StatefulSets("default").Update(ctx, set, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("updating statefulset %s: %v", name, err)
	}
}

// TestStatefulSet runs the subtests on one control plane: starting one
// takes longer than any subtest.
func TestStatefulSet(t *testing.T) {
	cl := startCluster(t)
	t.Run("ordered ready", func(t *testing.T) { testOrderedReady(t, cl) })
	t.Run("partitioned rolling update", func(t *testing.T) { testPartitionedRollingUpdate(t, cl) })
}

func testOrderedReady(t *testing.T, cl *cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	set := statefulSet("web", 3)
	set.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
		ObjectMeta: metav1.ObjectMeta{Name: "www"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}}
	set.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenDeleted: appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
		WhenScaled:  appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
	}
	if _, err := cl.cs.AppsV1().StatefulSets("default").Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	for i, name := range []string{"web-0", "web-1", "web-2"} {
		cl.until(ctx, t, name+" created", func() bool { return cl.pod(name) != nil })
		// The controller has seen the pod and counted it: had it been
		// going to create the next one regardless, it would have by now.
		cl.until(ctx, t, "status counting "+name, func() bool { return cl.get(ctx, t, "web").Status.Replicas == int32(i+1) })
		if next := cl.pod("web-" + string(rune('1'+i))); i < 2 && next != nil {
			t.Fatalf("%s created before %s was ready", next.Name, name)
		}
		p := cl.pod(name)
		if p.Spec.Hostname != name || p.Spec.Subdomain != "web" || p.Labels[appsv1.StatefulSetPodNameLabel] != name ||
			p.Labels[appsv1.PodIndexLabel] != string(rune('0'+i)) || p.Labels[appsv1.StatefulSetRevisionLabel] == "" {
			t.Errorf("%s identity: hostname %q subdomain %q labels %v", name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
		if !slices.ContainsFunc(p.Spec.Volumes, func(v corev1.Volume) bool {
			return v.Name == "www" && v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == "www-"+name
		}) {
			t.Errorf("%s volumes %v lack claim www-%s", name, p.Spec.Volumes, name)
		}
		if _, err := cl.cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "www-"+name, metav1.GetOptions{}); err != nil {
			t.Errorf("claim www-%s: %v", name, err)
		}
		cl.kubelet(ctx, t, []string{name})
	}
	cl.until(ctx, t, "three ready replicas", func() bool {
		s := cl.get(ctx, t, "web").Status
		return s.ReadyReplicas == 3 && s.AvailableReplicas == 3 && s.CurrentReplicas == 3 && s.UpdatedReplicas == 3 &&
			s.CurrentRevision != "" && s.CurrentRevision == s.UpdateRevision
	})

	if out, ok := kubectl(t, cl.cfg, "rollout", "status", "sts/web", "--timeout=10s"); ok && !strings.Contains(out, "complete") {
		t.Errorf("kubectl rollout status: %s", out)
	}

	t.Log("scale down to 1: web-2 goes before web-1, their claims with them")
	cl.update(ctx, t, "web", func(s *appsv1.StatefulSet) { s.Spec.Replicas = ptr.To[int32](1) })
	cl.until(ctx, t, "one replica left", func() bool {
		cl.kubelet(ctx, t, nil)
		return cl.pod("web-1") == nil && cl.pod("web-2") == nil && cl.get(ctx, t, "web").Status.Replicas == 1
	})
	if got, want := cl.deletionOrder("web-"), []string{"web-2", "web-1"}; !slices.Equal(got, want) {
		t.Errorf("deletion order %v, want %v", got, want)
	}
	cl.until(ctx, t, "claims of the removed pods deleted", func() bool {
		_, err1 := cl.cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "www-web-1", metav1.GetOptions{})
		_, err2 := cl.cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "www-web-2", metav1.GetOptions{})
		return apierrors.IsNotFound(err1) && apierrors.IsNotFound(err2)
	})
	if _, err := cl.cs.CoreV1().PersistentVolumeClaims("default").Get(ctx, "www-web-0", metav1.GetOptions{}); err != nil {
		t.Errorf("claim of the remaining pod: %v", err)
	}
}

func testPartitionedRollingUpdate(t *testing.T, cl *cluster) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	set := statefulSet("db", 4)
	set.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	set.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
		RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr.To[int32](2)}}
	if _, err := cl.cs.AppsV1().StatefulSets("default").Create(ctx, set, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cl.until(ctx, t, "four ready replicas", func() bool {
		cl.kubelet(ctx, t, nil)
		return cl.get(ctx, t, "db").Status.ReadyReplicas == 4
	})
	cl.update(ctx, t, "db", func(s *appsv1.StatefulSet) { s.Spec.Template.Spec.Containers[0].Image = "nginx:2" })
	images := func() []string {
		var out []string
		for _, n := range []string{"db-0", "db-1", "db-2", "db-3"} {
			if p := cl.pod(n); p != nil && p.DeletionTimestamp == nil {
				out = append(out, p.Spec.Containers[0].Image)
			} else {
				out = append(out, "")
			}
		}
		return out
	}
	want := []string{"nginx:1", "nginx:1", "nginx:2", "nginx:2"}
	cl.until(ctx, t, "ordinals 2 and 3 updated", func() bool {
		cl.kubelet(ctx, t, nil)
		s := cl.get(ctx, t, "db").Status
		return slices.Equal(images(), want) && s.UpdatedReplicas == 2 && s.ReadyReplicas == 4
	})
	s := cl.get(ctx, t, "db").Status
	if s.CurrentRevision == s.UpdateRevision || s.CurrentReplicas != 2 {
		t.Errorf("partitioned status: current %q (%d) update %q (%d)", s.CurrentRevision, s.CurrentReplicas, s.UpdateRevision, s.UpdatedReplicas)
	}

	if out, ok := kubectl(t, cl.cfg, "rollout", "status", "sts/db", "--timeout=10s"); ok && !strings.Contains(out, "partitioned roll out complete") {
		t.Errorf("kubectl rollout status (partitioned): %s", out)
	}

	t.Log("partition 0 finishes the rollout")
	cl.update(ctx, t, "db", func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = ptr.To[int32](0) })
	cl.until(ctx, t, "all updated", func() bool {
		cl.kubelet(ctx, t, nil)
		s := cl.get(ctx, t, "db").Status
		return slices.Equal(images(), []string{"nginx:2", "nginx:2", "nginx:2", "nginx:2"}) &&
			s.UpdatedReplicas == 4 && s.ReadyReplicas == 4 && s.CurrentRevision == s.UpdateRevision
	})
	// kubectl reports any set partition, even 0, as a partitioned roll out.
	if out, ok := kubectl(t, cl.cfg, "rollout", "status", "sts/db", "--timeout=10s"); ok && !strings.Contains(out, "4 new pods have been updated") {
		t.Errorf("kubectl rollout status: %s", out)
	}
}

// kubectl runs kubectl against the test server (skipping the check when
// kubectl is not installed) and returns its combined output.
func kubectl(t *testing.T, cfg *rest.Config, args ...string) (string, bool) {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Log("kubectl not installed: skipping the kubectl check")
		return "", false
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["skiff"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData, CertificateAuthority: cfg.CAFile}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData,
		ClientCertificate: cfg.CertFile, ClientKey: cfg.KeyFile, Token: cfg.BearerToken}
	kc.Contexts["skiff"] = &clientcmdapi.Context{Cluster: "skiff", AuthInfo: "admin", Namespace: "default"}
	kc.CurrentContext = "skiff"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, append([]string{"--kubeconfig", path}, args...)...).CombinedOutput()
	if err != nil {
		t.Errorf("kubectl %v: %v\n%s", args, err, out)
	}
	return string(out), true
}
