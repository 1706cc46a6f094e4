package daemonset_test

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/retry"

	"github.com/skiffkube/skiff/internal/controller/daemonset"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// cluster is a control plane (with its scheduler) plus the DaemonSet
// controller, and a pod cache the test waits on.
type cluster struct {
	cfg     *rest.Config
	cs      kubernetes.Interface
	pods    cache.Indexer
	changed chan struct{}
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	cfg := servertest.Start(t, func(c *server.Config) {
		c.Controllers.Disabled = []string{"daemonset"} // this test runs its own
	}).AdminConfig()
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	factory := informers.NewSharedInformerFactory(cs, 0)
	c, err := daemonset.New(daemonset.Config{
		Client:     cs,
		DaemonSets: factory.Apps().V1().DaemonSets(),
		Pods:       factory.Core().V1().Pods(),
		Nodes:      factory.Core().V1().Nodes(),
		Revisions:  factory.Apps().V1().ControllerRevisions(),
		Logger:     slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := &cluster{cfg: cfg, cs: cs, changed: make(chan struct{}, 1)}
	podInf := factory.Core().V1().Pods().Informer()
	cl.pods = podInf.GetIndexer()
	notify := func(any) {
		select {
		case cl.changed <- struct{}{}:
		default:
		}
	}
	for _, inf := range []cache.SharedIndexInformer{podInf, factory.Apps().V1().DaemonSets().Informer()} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: notify,
			UpdateFunc: func(_, o any) { notify(o) }, DeleteFunc: notify}); err != nil {
			t.Fatal(err)
		}
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

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) { w.t.Log(string(b)); return len(b), nil }

// until re-checks cond after every pod or DaemonSet change until it holds.
func (cl *cluster) until(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-cl.changed:
		case <-time.After(500 * time.Millisecond): // for state read from the API
		case <-ctx.Done():
			for _, o := range cl.pods.List() {
				p := o.(*corev1.Pod)
				t.Logf("pod %s node=%q target=%v phase=%s deleting=%v labels=%v", p.Name, p.Spec.NodeName,
					p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms, p.Status.Phase, p.DeletionTimestamp != nil, p.Labels)
			}
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

// podNodes maps the target node of each live pod (spec.nodeName, which
// the scheduler sets) to its pod; pods not yet bound map under "".
func (cl *cluster) podNodes(app string) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for _, o := range cl.pods.List() {
		p := o.(*corev1.Pod)
		if p.DeletionTimestamp == nil && p.Labels["app"] == app {
			out[p.Spec.NodeName] = append(out[p.Spec.NodeName], p)
		}
	}
	return out
}

func (cl *cluster) boundTo(app string, nodes ...string) func() bool {
	return func() bool {
		got := cl.podNodes(app)
		if len(got) != len(nodes) {
			return false
		}
		for _, n := range nodes {
			if len(got[n]) != 1 {
				return false
			}
		}
		return true
	}
}

// addNode creates a Ready node in a pool (a label the test's DaemonSet
// selects, so that the subtests' DaemonSets keep to their own nodes).
func addNode(ctx context.Context, t *testing.T, cs kubernetes.Interface, name, pool string, taints ...corev1.Taint) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name, "pool": pool}},
		Spec: corev1.NodeSpec{Taints: taints}}
	if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating node %s: %v", name, err)
	}
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods: resource.MustParse("110")}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Capacity, n.Status.Allocatable = res, res
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}}
		_, err = cs.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("node %s status: %v", name, err)
	}
}

// markReady plays the kubelet: every bound pod that is not Running and
// Ready is made so.
func (cl *cluster) markReady(ctx context.Context, t *testing.T) {
	t.Helper()
	for _, o := range cl.pods.List() {
		p := o.(*corev1.Pod)
		if p.Spec.NodeName == "" || p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodRunning {
			continue
		}
		p = p.DeepCopy()
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		if _, err := cl.cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Logf("marking %s ready: %v", p.Name, err)
		}
	}
}

// updateDaemonSet changes a DaemonSet, retrying on conflicts with the
// controller's status writes.
func updateDaemonSet(ctx context.Context, t *testing.T, cs kubernetes.Interface, name string, mutate func(*appsv1.DaemonSet)) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ds, err := cs.AppsV1().DaemonSets("default").Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		mutate(ds)
		_, err = cs.AppsV1().DaemonSets("default").Update(ctx, ds, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("updating daemonset %s: %v", name, err)
	}
}

func daemonSet(name, pool string) *appsv1.DaemonSet {
	lbls := map[string]string{"app": name}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: lbls},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec: corev1.PodSpec{NodeSelector: map[string]string{"pool": pool},
					Containers: []corev1.Container{{Name: "agent", Image: "busybox:1"}}},
			},
		},
	}
}

// TestDaemonSet runs the subtests on one control plane: starting one
// takes longer than any subtest.
func TestDaemonSet(t *testing.T) {
	cl := startCluster(t)
	t.Run("follows nodes", func(t *testing.T) { testFollowsNodes(t, cl) })
	t.Run("rolling update", func(t *testing.T) { testRollingUpdate(t, cl) })
}

func testFollowsNodes(t *testing.T, cl *cluster) {
	cs := cl.cs
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addNode(ctx, t, cs, "n1", "follow")
	addNode(ctx, t, cs, "n2", "follow")
	addNode(ctx, t, cs, "db", "follow", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule})
	if _, err := cs.AppsV1().DaemonSets("default").Create(ctx, daemonSet("agent", "follow"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cl.until(ctx, t, "one pod bound to n1 and n2 each", cl.boundTo("agent", "n1", "n2"))
	p := cl.podNodes("agent")["n1"][0]
	if h := p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]; h == "" {
		t.Errorf("pod %s has no %s label", p.Name, appsv1.DefaultDaemonSetUniqueLabelKey)
	}
	if !slices.ContainsFunc(p.Spec.Tolerations, func(tol corev1.Toleration) bool {
		return tol.Key == corev1.TaintNodeUnreachable && tol.Effect == corev1.TaintEffectNoExecute
	}) {
		t.Errorf("pod %s lacks the unreachable toleration: %v", p.Name, p.Spec.Tolerations)
	}

	t.Log("a node added later gets a pod")
	addNode(ctx, t, cs, "n3", "follow")
	cl.until(ctx, t, "a pod on n3", cl.boundTo("agent", "n1", "n2", "n3"))

	t.Log("a removed node loses its pod, a NoExecute taint evicts")
	if err := cs.CoreV1().Nodes().Delete(ctx, "n2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	n1, err := cs.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n1.Spec.Taints = []corev1.Taint{{Key: "maintenance", Effect: corev1.TaintEffectNoExecute}}
	if _, err := cs.CoreV1().Nodes().Update(ctx, n1, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cl.until(ctx, t, "only n3 keeps a pod", cl.boundTo("agent", "n3"))

	t.Log("a toleration brings the pod to the tainted nodes")
	updateDaemonSet(ctx, t, cs, "agent", func(ds *appsv1.DaemonSet) {
		ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	})
	cl.until(ctx, t, "pods on n1, n3 and db, all of the new revision", func() bool {
		cl.markReady(ctx, t)
		if !cl.boundTo("agent", "n1", "n3", "db")() {
			return false
		}
		ds, err := cs.AppsV1().DaemonSets("default").Get(ctx, "agent", metav1.GetOptions{})
		if err != nil {
			return false
		}
		s := ds.Status
		return s.ObservedGeneration == ds.Generation && s.DesiredNumberScheduled == 3 && s.UpdatedNumberScheduled == 3 &&
			s.NumberAvailable == 3 && s.NumberReady == 3 && s.CurrentNumberScheduled == 3 && s.NumberUnavailable == 0
	})
	revs, err := cs.AppsV1().ControllerRevisions("default").List(ctx, metav1.ListOptions{LabelSelector: labels.Set{"app": "agent"}.String()})
	if err != nil || len(revs.Items) != 2 {
		t.Fatalf("revisions: %v, %d; want 2", err, len(revs.Items))
	}
}

func testRollingUpdate(t *testing.T, cl *cluster) {
	cs := cl.cs
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nodes := []string{"a", "b", "c", "d"}
	for _, n := range nodes {
		addNode(ctx, t, cs, n, "roll")
	}
	if _, err := cs.AppsV1().DaemonSets("default").Create(ctx, daemonSet("web", "roll"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cl.until(ctx, t, "four ready pods", func() bool {
		cl.markReady(ctx, t)
		ds, err := cs.AppsV1().DaemonSets("default").Get(ctx, "web", metav1.GetOptions{})
		return err == nil && ds.Status.NumberAvailable == 4
	})
	updateDaemonSet(ctx, t, cs, "web", func(ds *appsv1.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "busybox:2" })
	// maxUnavailable 1 (the default): never fewer than 3 ready pods on
	// distinct nodes while the update runs.
	minReady := len(nodes)
	cl.until(ctx, t, "all pods on busybox:2", func() bool {
		ready, updated := 0, 0
		for _, o := range cl.pods.List() {
			p := o.(*corev1.Pod)
			if p.Labels["app"] != "web" {
				continue
			}
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
				ready++
			}
			if p.DeletionTimestamp == nil && p.Spec.Containers[0].Image == "busybox:2" && p.Status.Phase == corev1.PodRunning {
				updated++
			}
		}
		minReady = min(minReady, ready)
		cl.markReady(ctx, t)
		return updated == len(nodes) && ready == len(nodes)
	})
	if minReady < len(nodes)-1 {
		t.Errorf("ready pods fell to %d during the update, want >= %d", minReady, len(nodes)-1)
	}
	cl.until(ctx, t, "status of a finished rollout", func() bool {
		ds, err := cs.AppsV1().DaemonSets("default").Get(ctx, "web", metav1.GetOptions{})
		return err == nil && ds.Status.UpdatedNumberScheduled == 4 && ds.Status.NumberAvailable == 4
	})
	if out, ok := kubectl(t, cl.cfg, "rollout", "status", "ds/web", "--timeout=10s"); ok && !strings.Contains(out, "successfully rolled out") {
		t.Errorf("kubectl rollout status: %s", out)
	}
	if out, ok := kubectl(t, cl.cfg, "rollout", "history", "ds/web"); ok && !(strings.Contains(out, "1 ") && strings.Contains(out, "2 ")) {
		t.Errorf("kubectl rollout history lacks revisions 1 and 2: %s", out)
	}
	for n, ps := range cl.podNodes("web") {
		if len(ps) != 1 {
			t.Errorf("node %q has %d pods: %v", n, len(ps), fmt.Sprint(ps))
		}
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
