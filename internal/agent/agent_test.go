package agent_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime/fake"
	"github.com/skiffkube/skiff/internal/server"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster starts a server and three hollow agents; it returns the
// admin client and the agents' runtimes by node name.
func startCluster(t *testing.T) (kubernetes.Interface, map[string]*fake.Runtime) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	// The test binds pods itself, so no scheduler races it.
	srv, err := server.Start(ctx, server.Config{
		DataDir: t.TempDir(), BindAddress: "127.0.0.1", SecurePort: freePort(t),
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		DisableScheduler: true,
	})
	if err != nil {
		cancel()
		t.Fatalf("starting server: %v", err)
	}
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := srv.Wait(); err != nil {
			t.Errorf("server: %v", err)
		}
	})
	runtimes := map[string]*fake.Runtime{}
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("hollow-%d", i)
		rt := fake.New(fake.Config{})
		runtimes[name] = rt
		a, err := agent.New(agent.Config{
			NodeName: name, Client: cs, Runtime: rt, NodeIP: fmt.Sprintf("10.64.0.%d", i+1),
			LeaseRenewInterval: time.Second, BackoffInitial: 300 * time.Millisecond, BackoffMax: 2 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); err != nil {
				t.Errorf("agent %s: %v", name, err)
			}
		}()
	}
	return cs, runtimes
}

// until waits, on a watch, for an object named name to satisfy cond.
func until[T runtime.Object](t *testing.T, lw *cache.ListWatch, obj T, name string, timeout time.Duration, what string, cond func(T) bool) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var got T
	_, err := watchtools.UntilWithSync(ctx, lw, obj, nil, func(ev watch.Event) (bool, error) {
		o, ok := ev.Object.(T)
		if !ok || ev.Type == watch.Deleted {
			return false, nil
		}
		if m, err := metaName(o); err != nil || m != name {
			return false, err
		}
		got = o
		return cond(o), nil
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v (last: %+v)", what, err, got)
	}
	return got
}

func metaName(o runtime.Object) (string, error) {
	m, ok := o.(metav1.Object)
	if !ok {
		return "", fmt.Errorf("%T has no metadata", o)
	}
	return m.GetName(), nil
}

func podLW(cs kubernetes.Interface, ns string) *cache.ListWatch {
	return cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "pods", ns, fields.Everything())
}

func TestHollowNodes(t *testing.T) {
	cs, runtimes := startCluster(t)

	nodeLW := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "nodes", "", fields.Everything())
	for name := range runtimes {
		n := until(t, nodeLW, &corev1.Node{}, name, 45*time.Second, "node "+name+" Ready", nodeReady)
		if v := n.Status.NodeInfo.ContainerRuntimeVersion; v != "fake://"+fake.Version {
			t.Errorf("%s: runtime version %q", name, v)
		}
		if n.Status.Capacity.Pods().Value() != 110 || n.Labels["kubernetes.io/hostname"] != name {
			t.Errorf("%s: capacity %v labels %v", name, n.Status.Capacity, n.Labels)
		}
	}
	t.Run("lease renews", func(t *testing.T) {
		// The node may report Ready just before its first lease is written.
		lw := cache.NewListWatchFromClient(cs.CoordinationV1().RESTClient(), "leases", corev1.NamespaceNodeLease, fields.Everything())
		l := until(t, lw, &coordinationv1.Lease{}, "hollow-1", 20*time.Second, "lease created", func(l *coordinationv1.Lease) bool {
			return l.Spec.RenewTime != nil
		})
		first := l.Spec.RenewTime.Time
		until(t, lw, &coordinationv1.Lease{}, "hollow-1", 20*time.Second, "lease renewal", func(l *coordinationv1.Lease) bool {
			return l.Spec.RenewTime.After(first) && *l.Spec.HolderIdentity == "hollow-1"
		})
	})
	t.Run("pods", func(t *testing.T) { testPods(t, cs, runtimes) })
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podCondition(p *corev1.Pod, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func newPod(name, node string, policy corev1.RestartPolicy, ann map[string]string) *corev1.Pod {
	grace := int64(5)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: ann},
		Spec: corev1.PodSpec{
			NodeName: node, RestartPolicy: policy, TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "main", Image: "registry.local/app:1"}},
		},
	}
}

func testPods(t *testing.T, cs kubernetes.Interface, runtimes map[string]*fake.Runtime) {
	ctx := context.Background()
	pods := cs.CoreV1().Pods("default")
	lw := podLW(cs, "default")

	// web is created unbound and bound through pods/binding.
	web := newPod("web", "", corev1.RestartPolicyAlways, map[string]string{fake.AnnotationStopSeconds: "1"})
	for _, p := range []*corev1.Pod{
		web,
		newPod("job-ok", "hollow-1", corev1.RestartPolicyNever, map[string]string{fake.AnnotationExitCode: "0", fake.AnnotationRunSeconds: "0.5"}),
		newPod("crash", "hollow-2", corev1.RestartPolicyAlways, map[string]string{fake.AnnotationExitCode: "1"}),
	} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatalf("creating %s: %v", p.Name, err)
		}
	}
	err := pods.Bind(ctx, &corev1.Binding{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Target: corev1.ObjectReference{Kind: "Node", Name: "hollow-0"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("binding web: %v", err)
	}

	got := until(t, lw, &corev1.Pod{}, "web", 30*time.Second, "web Running and Ready", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodRunning && podCondition(p, corev1.PodReady) == corev1.ConditionTrue
	})
	if got.Status.PodIP == "" || got.Status.HostIP != "10.64.0.1" || len(got.Status.ContainerStatuses) != 1 ||
		!got.Status.ContainerStatuses[0].Ready || got.Status.ContainerStatuses[0].State.Running == nil {
		t.Errorf("web status: %+v", got.Status)
	}

	got = until(t, lw, &corev1.Pod{}, "job-ok", 30*time.Second, "job-ok Succeeded", func(p *corev1.Pod) bool {
		return p.Status.Phase == corev1.PodSucceeded
	})
	if term := got.Status.ContainerStatuses[0].State.Terminated; term == nil || term.Reason != "Completed" || term.ExitCode != 0 {
		t.Errorf("job-ok container: %+v", got.Status.ContainerStatuses[0].State)
	}

	got = until(t, lw, &corev1.Pod{}, "crash", 45*time.Second, "crash in CrashLoopBackOff after 2 restarts", func(p *corev1.Pod) bool {
		if len(p.Status.ContainerStatuses) != 1 {
			return false
		}
		s := p.Status.ContainerStatuses[0]
		return s.RestartCount >= 2 && s.State.Waiting != nil && s.State.Waiting.Reason == agent.ReasonCrashLoopBackOff
	})
	if s := got.Status.ContainerStatuses[0]; s.LastTerminationState.Terminated == nil || s.LastTerminationState.Terminated.ExitCode != 1 || got.Status.Phase != corev1.PodRunning {
		t.Errorf("crash status: phase %s, container %+v", got.Status.Phase, s)
	}

	// A finished pod's status is not written again.
	stable, err := pods.Get(ctx, "job-ok", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	// Deleting web with a grace period: the container takes 1 s to stop,
	// then the agent removes the pod and its sandbox.
	start := time.Now()
	grace := int64(5)
	if err := pods.Delete(ctx, "web", metav1.DeleteOptions{GracePeriodSeconds: &grace}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, cs, "web", 30*time.Second)
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Errorf("web was removed after %s, before its container stopped", d)
	}
	if again, err := pods.Get(ctx, "job-ok", metav1.GetOptions{}); err != nil || again.ResourceVersion != stable.ResourceVersion {
		t.Errorf("job-ok was rewritten: resourceVersion %s -> %s (%v)", stable.ResourceVersion, again.ResourceVersion, err)
	}
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for {
		sbs, _ := runtimes["hollow-0"].ListPodSandbox(ctx2)
		if len(sbs) == 0 {
			break
		}
		select {
		case <-ctx2.Done():
			t.Fatalf("hollow-0 still has %d sandboxes", len(sbs))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitGone waits on a watch until the pod is deleted.
func waitGone(t *testing.T, cs kubernetes.Interface, name string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err := watchtools.UntilWithSync(ctx, podLW(cs, "default"), &corev1.Pod{}, func(store cache.Store) (bool, error) {
		_, exists, err := store.GetByKey("default/" + name)
		return !exists, err
	}, func(ev watch.Event) (bool, error) {
		p, ok := ev.Object.(*corev1.Pod)
		return ok && ev.Type == watch.Deleted && p.Name == name, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s to be deleted: %v", name, err)
	}
}
