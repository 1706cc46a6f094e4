package scheduler_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/sim"
)

// cluster is a real server (which runs the scheduler) with hollow nodes.
type cluster struct {
	t   *testing.T
	ctx context.Context
	srv *server.Server
	cs  kubernetes.Interface
	// sims yield each simulator's Run error.
	sims []chan error
}

func startCluster(t *testing.T, ctx context.Context, opts ...func(*server.Config)) *cluster {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cfg := server.Config{DataDir: t.TempDir(), BindAddress: "127.0.0.1", SecurePort: port,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rc := srv.AdminConfig()
	rc.QPS, rc.Burst = 5000, 10000
	return &cluster{t: t, ctx: ctx, srv: srv, cs: kubernetes.NewForConfigOrDie(rc)}
}

// stop waits for the simulators and the server after ctx was cancelled.
func (c *cluster) stop() {
	for _, done := range c.sims {
		if err := <-done; err != nil {
			c.t.Errorf("sim: %v", err)
		}
	}
	if err := c.srv.Wait(); err != nil {
		c.t.Errorf("server: %v", err)
	}
}

// runNodes starts n hollow nodes named prefix0.. with the given cpu and
// waits until they are Ready.
func (c *cluster) runNodes(prefix string, n int, cpu string) {
	c.t.Helper()
	s, err := sim.New(sim.Config{Nodes: n, NamePrefix: prefix, REST: c.srv.AdminConfig(), StartInterval: time.Millisecond,
		Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}})
	if err != nil {
		c.t.Fatal(err)
	}
	done := make(chan error, 1)
	c.sims = append(c.sims, done)
	go func() { done <- s.Run(c.ctx) }()
	ready := map[string]bool{}
	c.until("nodes", "", &corev1.Node{}, func(o runtime.Object) bool {
		if node := o.(*corev1.Node); strings.HasPrefix(node.Name, prefix) && isReady(node) {
			ready[node.Name] = true
		}
		return len(ready) == n
	})
}

// until watches resource in ns until cond holds for an object.
func (c *cluster) until(resource, ns string, obj runtime.Object, cond func(runtime.Object) bool) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	lw := cache.NewListWatchFromClient(c.cs.CoreV1().RESTClient(), resource, ns, fields.Everything())
	_, err := watchtools.UntilWithSync(ctx, lw, obj, nil, func(ev watch.Event) (bool, error) {
		return ev.Type != watch.Deleted && cond(ev.Object), nil
	})
	if err != nil {
		c.t.Fatalf("waiting on %s: %v", resource, err)
	}
}

// untilPod waits until cond holds for the named pod and returns it.
func (c *cluster) untilPod(name string, cond func(*corev1.Pod) bool) *corev1.Pod {
	c.t.Helper()
	var got *corev1.Pod
	c.until("pods", "default", &corev1.Pod{}, func(o runtime.Object) bool {
		p := o.(*corev1.Pod)
		if p.Name == name && cond(p) {
			got = p
			return true
		}
		return false
	})
	return got
}

// untilEvent waits for an event about the named pod with the reason.
func (c *cluster) untilEvent(pod, reason string) *corev1.Event {
	c.t.Helper()
	var got *corev1.Event
	c.until("events", "default", &corev1.Event{}, func(o runtime.Object) bool {
		e := o.(*corev1.Event)
		if e.InvolvedObject.Name == pod && e.Reason == reason {
			got = e
			return true
		}
		return false
	})
	return got
}

func (c *cluster) createPod(name, cpu string, mutate func(*corev1.Pod)) {
	c.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}}}}
	if mutate != nil {
		mutate(p)
	}
	if _, err := c.cs.CoreV1().Pods("default").Create(c.ctx, p, metav1.CreateOptions{}); err != nil {
		c.t.Fatalf("creating pod %s: %v", name, err)
	}
}

func running(p *corev1.Pod) bool { return p.Spec.NodeName != "" && p.Status.Phase == corev1.PodRunning }

func podScheduled(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodScheduled {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func isReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// TestScheduler runs the server's scheduler against three hollow nodes
// with 2 cpu each.
func TestScheduler(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := startCluster(t, ctx)
	defer c.stop()
	defer cancel()
	c.runNodes("small-", 3, "2")

	// A pod naming another scheduler, created first: it must stay pending.
	c.createPod("other", "100m", func(p *corev1.Pod) { p.Spec.SchedulerName = "other-scheduler" })

	// Pods are bound and run; each gets a Scheduled event.
	for _, name := range []string{"a", "b"} {
		c.createPod(name, "500m", nil)
	}
	for _, name := range []string{"a", "b"} {
		p := c.untilPod(name, running)
		if !strings.HasPrefix(p.Spec.NodeName, "small-") {
			t.Errorf("%s on %q", name, p.Spec.NodeName)
		}
		e := c.untilEvent(name, "Scheduled")
		if want := "Successfully assigned default/" + name + " to " + p.Spec.NodeName; e.Message != want || e.Type != corev1.EventTypeNormal {
			t.Errorf("event %s %q, want Normal %q", e.Type, e.Message, want)
		}
	}

	// nodeSelector: hollow node i is in zone i%3, so zone-b is small-1.
	c.createPod("sel", "100m", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{sim.LabelZone: "zone-b"} })
	if p := c.untilPod("sel", running); p.Spec.NodeName != "small-1" {
		t.Errorf("sel on %q, want small-1", p.Spec.NodeName)
	}

	// A pod bigger than any node stays pending and says why.
	c.createPod("big", "3", nil)
	const want = "0/3 nodes are available: 3 Insufficient cpu."
	p := c.untilPod("big", func(p *corev1.Pod) bool { return podScheduled(p) != nil })
	cond := podScheduled(p)
	if cond.Status != corev1.ConditionFalse || cond.Reason != corev1.PodReasonUnschedulable || !strings.HasPrefix(cond.Message, want) {
		t.Errorf("big: PodScheduled %s %s %q, want False Unschedulable %q...", cond.Status, cond.Reason, cond.Message, want)
	}
	if p.Spec.NodeName != "" {
		t.Errorf("big bound to %s", p.Spec.NodeName)
	}
	e := c.untilEvent("big", "FailedScheduling")
	t.Logf("FailedScheduling: %s", e.Message)
	if e.Type != corev1.EventTypeWarning || !strings.HasPrefix(e.Message, want) {
		t.Errorf("FailedScheduling event %s %q, want Warning %q...", e.Type, e.Message, want)
	}

	// A bigger node arrives: the pod is placed there without polling.
	c.runNodes("big-", 1, "8")
	if p := c.untilPod("big", running); p.Spec.NodeName != "big-0" {
		t.Errorf("big on %q, want big-0", p.Spec.NodeName)
	}

	// The other scheduler's pod was left alone all along.
	other, err := c.cs.CoreV1().Pods("default").Get(ctx, "other", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if other.Spec.NodeName != "" || podScheduled(other) != nil {
		t.Errorf("other-scheduler pod touched: node %q conditions %v", other.Spec.NodeName, other.Status.Conditions)
	}
}
