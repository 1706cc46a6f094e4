package agent_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime/fake"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// fakeStats is a node measurement the test changes.
type fakeStats struct {
	mu sync.Mutex
	s  agent.NodeStats
}

func (f *fakeStats) set(change func(*agent.NodeStats)) {
	f.mu.Lock()
	change(&f.s)
	f.mu.Unlock()
}

func (f *fakeStats) NodeStats(context.Context) (agent.NodeStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.s, nil
}

func nodeCondition(n *corev1.Node, t corev1.NodeConditionType) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func evicted(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed && p.Status.Reason == agent.ReasonEvicted
}

func TestNodePressureEviction(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler = true })
	rc := rest.CopyConfig(srv.AdminConfig())
	rc.QPS, rc.Burst = 500, 1000
	cs := kubernetes.NewForConfigOrDie(rc)
	const gi = int64(1 << 30)
	stats := &fakeStats{s: agent.NodeStats{
		Memory: agent.Amount{Available: gi / 2, Capacity: gi}, NodeFS: agent.Amount{Available: 50 * gi, Capacity: 100 * gi},
		ImageFS: agent.Amount{Available: 50 * gi, Capacity: 100 * gi}, PIDs: agent.Amount{Available: 30000, Capacity: 32768},
	}}
	thresholds, err := agent.ParseEvictionHard("memory.available<100Mi,nodefs.available<10%,pid.available<10%")
	if err != nil {
		t.Fatal(err)
	}
	runAgent(t, agent.Config{NodeName: "node-e", Client: cs, Runtime: fake.New(fake.Config{}), DataDir: t.TempDir(),
		Stats: stats, EvictionHard: thresholds, EvictionMonitoringInterval: time.Second, EvictionPressureTransitionPeriod: time.Second})

	ctx := context.Background()
	mem := func(req, lim string) corev1.ResourceRequirements {
		r := corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(req), corev1.ResourceCPU: resource.MustParse("100m")}}
		if lim != "" {
			r.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(lim), corev1.ResourceCPU: resource.MustParse("100m")}
		}
		return r
	}
	for name, res := range map[string]corev1.ResourceRequirements{
		"besteffort": {}, "burstable": mem("100Mi", ""), "guaranteed": mem("100Mi", "100Mi"),
	} {
		p := newPod(name, "node-e", corev1.RestartPolicyAlways, nil)
		p.Spec.Containers[0].Resources = res
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lw := podLW(cs, "default")
	for _, name := range []string{"besteffort", "burstable", "guaranteed"} {
		until(t, lw, &corev1.Pod{}, name, 30*time.Second, name+" Running", running)
	}
	nodeLW := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "nodes", "", fields.Everything())
	if n := until(t, nodeLW, &corev1.Node{}, "node-e", 20*time.Second, "node Ready", nodeReady); nodeCondition(n, corev1.NodeMemoryPressure) != corev1.ConditionFalse {
		t.Fatalf("memory pressure before any: %+v", n.Status.Conditions)
	}

	stats.set(func(s *agent.NodeStats) { s.Memory.Available = 50 << 20 })
	until(t, nodeLW, &corev1.Node{}, "node-e", 20*time.Second, "MemoryPressure", func(n *corev1.Node) bool {
		return nodeCondition(n, corev1.NodeMemoryPressure) == corev1.ConditionTrue
	})
	p := until(t, lw, &corev1.Pod{}, "besteffort", 20*time.Second, "besteffort evicted", evicted)
	if want := "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. "; p.Status.Message != want {
		t.Errorf("message %q, want %q", p.Status.Message, want)
	}
	if b, err := cs.CoreV1().Pods("default").Get(ctx, "burstable", metav1.GetOptions{}); err != nil || evicted(b) {
		t.Errorf("burstable evicted together with besteffort (%v)", err)
	}
	until(t, lw, &corev1.Pod{}, "besteffort", 20*time.Second, "besteffort's container killed", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Terminated != nil
	})
	until(t, lw, &corev1.Pod{}, "burstable", 20*time.Second, "burstable evicted next", evicted)
	stats.set(func(s *agent.NodeStats) { s.Memory.Available = gi / 2 })
	until(t, nodeLW, &corev1.Node{}, "node-e", 20*time.Second, "MemoryPressure gone", func(n *corev1.Node) bool {
		return nodeCondition(n, corev1.NodeMemoryPressure) == corev1.ConditionFalse
	})
	if g, err := cs.CoreV1().Pods("default").Get(ctx, "guaranteed", metav1.GetOptions{}); err != nil || !running(g) {
		t.Errorf("guaranteed is not running after the pressure went (%v)", err)
	}

	stats.set(func(s *agent.NodeStats) { s.NodeFS.Available, s.PIDs.Available = gi, 100 })
	n := until(t, nodeLW, &corev1.Node{}, "node-e", 20*time.Second, "DiskPressure and PIDPressure", func(n *corev1.Node) bool {
		return nodeCondition(n, corev1.NodeDiskPressure) == corev1.ConditionTrue && nodeCondition(n, corev1.NodePIDPressure) == corev1.ConditionTrue
	})
	if nodeCondition(n, corev1.NodeMemoryPressure) != corev1.ConditionFalse || nodeCondition(n, corev1.NodeReady) != corev1.ConditionTrue {
		t.Errorf("conditions %+v", n.Status.Conditions)
	}
	p = until(t, lw, &corev1.Pod{}, "guaranteed", 20*time.Second, "guaranteed evicted for disk", evicted)
	if !strings.HasPrefix(p.Status.Message, "The node was low on resource: ephemeral-storage.") {
		t.Errorf("disk eviction message %q", p.Status.Message)
	}
}
