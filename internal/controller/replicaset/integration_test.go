package replicaset_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/replicaset"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// startControlPlane runs the API server alone plus this package's
// ReplicaSet controller and a stand-in kubelet for namespace ns.
func startControlPlane(t *testing.T, ns string) kubernetes.Interface {
	t.Helper()
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler, c.DisableControllerManager = true, true })
	cfg := srv.AdminConfig()
	cfg.QPS, cfg.Burst = 500, 1000 // client-go's default 5 QPS would pace the test
	cs := kubernetes.NewForConfigOrDie(cfg)
	factory := informers.NewSharedInformerFactory(cs, 0)
	t.Cleanup(factory.Shutdown) // runs after the cancel below (cleanups run last first)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := replicaset.New(replicaset.Config{Client: cs, Pods: factory.Core().V1().Pods(), ReplicaSets: factory.Apps().V1().ReplicaSets()})
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	wg.Go(func() {
		if err := c.Run(ctx, 2); err != nil {
			t.Errorf("controller: %v", err)
		}
	})
	wg.Go(func() { fakeKubelet(ctx, t, cs, ns) })
	return cs
}

// fakeKubelet plays the node: it binds new pods of ns to a node, marks
// them Running and Ready, and finishes graceful deletions at once.
func fakeKubelet(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) {
	lw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "pods", ns, fields.Everything())
	_, informer := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw, ObjectType: &corev1.Pod{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { playPod(ctx, t, cs, obj.(*corev1.Pod)) },
			UpdateFunc: func(_, obj any) { playPod(ctx, t, cs, obj.(*corev1.Pod)) },
		},
	})
	informer.RunWithContext(ctx)
}

func playPod(ctx context.Context, t *testing.T, cs kubernetes.Interface, p *corev1.Pod) {
	var err error
	pods := cs.CoreV1().Pods(p.Namespace)
	switch {
	case p.DeletionTimestamp != nil:
		err = pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0), Preconditions: &metav1.Preconditions{UID: &p.UID}})
	case p.Spec.NodeName == "":
		err = pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: p.Name, UID: p.UID},
			Target: corev1.ObjectReference{Kind: "Node", Name: "node-1"}}, metav1.CreateOptions{})
	case p.Status.Phase != corev1.PodRunning:
		now := metav1.Now()
		p = p.DeepCopy()
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now},
		}
		_, err = pods.UpdateStatus(ctx, p, metav1.UpdateOptions{})
	}
	if err != nil && ctx.Err() == nil {
		t.Logf("fake kubelet on %s: %v", p.Name, err) // conflicts are retried on the next event
	}
}

// waitRS watches the ReplicaSet until cond holds.
func waitRS(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, name, what string, cond func(*appsv1.ReplicaSet) bool) *appsv1.ReplicaSet {
	t.Helper()
	lw := cache.NewListWatchFromClient(cs.AppsV1().RESTClient(), "replicasets", ns, fields.OneTermEqualSelector("metadata.name", name))
	ev, err := watchtools.UntilWithSync(ctx, lw, &appsv1.ReplicaSet{}, nil, func(e watch.Event) (bool, error) {
		rs, ok := e.Object.(*appsv1.ReplicaSet)
		return ok && cond(rs), nil
	})
	if err != nil {
		t.Fatalf("waiting for ReplicaSet %s: %s: %v", name, what, err)
	}
	return ev.Object.(*appsv1.ReplicaSet)
}

// livePods lists the pods of app that are not being deleted.
func livePods(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, app string) []corev1.Pod {
	t.Helper()
	list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.Set{"app": app}.String()})
	if err != nil {
		t.Fatal(err)
	}
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func settled(n int32) func(*appsv1.ReplicaSet) bool {
	return func(rs *appsv1.ReplicaSet) bool {
		return rs.Status.ObservedGeneration == rs.Generation && rs.Status.Replicas == n &&
			rs.Status.ReadyReplicas == n && rs.Status.AvailableReplicas == n && rs.Status.FullyLabeledReplicas == n
	}
}

func TestReplicaSetScalesAndReplaces(t *testing.T) {
	const ns = "rs-test"
	cs := startControlPlane(t, ns)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lbl := map[string]string{"app": "web"}
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: lbl},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbl},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "busybox"}}},
			},
		},
	}
	if _, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitRS(ctx, t, cs, ns, "web", "3 ready replicas", settled(3))
	pods := livePods(ctx, t, cs, ns, "web")
	if len(pods) != 3 {
		t.Fatalf("%d live pods, want 3", len(pods))
	}
	for _, p := range pods {
		if ref := metav1.GetControllerOf(&p); ref == nil || ref.Name != "web" || ref.Kind != "ReplicaSet" {
			t.Errorf("pod %s controller %+v, want ReplicaSet web", p.Name, ref)
		}
	}

	// A deleted pod is replaced.
	victim := pods[0]
	if err := cs.CoreV1().Pods(ns).Delete(ctx, victim.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	replaced := func(rs *appsv1.ReplicaSet) bool {
		if !settled(3)(rs) {
			return false
		}
		names := map[types.UID]bool{}
		for _, p := range livePods(ctx, t, cs, ns, "web") {
			names[p.UID] = true
		}
		return len(names) == 3 && !names[victim.UID]
	}
	waitRS(ctx, t, cs, ns, "web", "the deleted pod replaced", replaced)

	// Scale down, then up again.
	for _, n := range []int32{1, 4} {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			scale, err := cs.AppsV1().ReplicaSets(ns).GetScale(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return err
			}
			scale.Spec.Replicas = n
			_, err = cs.AppsV1().ReplicaSets(ns).UpdateScale(ctx, "web", scale, metav1.UpdateOptions{})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		waitRS(ctx, t, cs, ns, "web", fmt.Sprintf("scaled to %d", n), func(rs *appsv1.ReplicaSet) bool {
			return settled(n)(rs) && len(livePods(ctx, t, cs, ns, "web")) == int(n)
		})
	}
}
