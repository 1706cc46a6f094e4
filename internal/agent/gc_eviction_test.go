package agent_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
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

// TestReclaimBeforeEviction fills the image filesystem with an unused
// image: the agent reports DiskPressure, removes the image instead of
// evicting a pod, and the condition clears.
func TestReclaimBeforeEviction(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler = true })
	rc := rest.CopyConfig(srv.AdminConfig())
	rc.QPS, rc.Burst = 500, 1000
	cs := kubernetes.NewForConfigOrDie(rc)
	rt := fake.New(fake.Config{})
	const mi = int64(1 << 20)
	// The disk holds 1000Mi: base plus the images.
	var base atomic.Int64
	base.Store(100 * mi)
	stats := agent.StatsFunc(func(ctx context.Context) (agent.NodeStats, error) {
		images, err := rt.ListImages(ctx)
		if err != nil {
			return agent.NodeStats{}, err
		}
		used := base.Load()
		for _, img := range images {
			used += int64(img.Size)
		}
		disk := agent.Amount{Available: 1000*mi - used, Capacity: 1000 * mi}
		return agent.NodeStats{Memory: agent.Amount{Available: 1 << 30, Capacity: 2 << 30}, NodeFS: disk, ImageFS: disk,
			PIDs: agent.Amount{Available: 30000, Capacity: 32768}}, nil
	})
	runAgent(t, agent.Config{NodeName: "node-gc", Client: cs, Runtime: rt, DataDir: t.TempDir(), Stats: stats,
		// Image GC by usage is off: only reclaim under pressure removes images.
		GCPolicy:                   agent.GCPolicy{ImageHighThresholdPercent: 100, ImageMinAge: -1},
		EvictionMonitoringInterval: 200 * time.Millisecond, EvictionPressureTransitionPeriod: time.Second})

	ctx := context.Background()
	p := newPod("besteffort", "node-gc", corev1.RestartPolicyAlways, nil)
	if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lw := podLW(cs, "default")
	until(t, lw, &corev1.Pod{}, "besteffort", 30*time.Second, "Running", running)
	nodeLW := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "nodes", "", fields.Everything())
	until(t, nodeLW, &corev1.Node{}, "node-gc", 20*time.Second, "node Ready without DiskPressure", func(n *corev1.Node) bool {
		return nodeReady(n) && nodeCondition(n, corev1.NodeDiskPressure) == corev1.ConditionFalse
	})

	// 800Mi of unused image: 100Mi of 1000Mi left, under nodefs<10% and imagefs<15%.
	rt.AddImage("registry.local/big:1", 800*uint64(mi))
	until(t, nodeLW, &corev1.Node{}, "node-gc", 20*time.Second, "DiskPressure", func(n *corev1.Node) bool {
		return nodeCondition(n, corev1.NodeDiskPressure) == corev1.ConditionTrue
	})
	until(t, nodeLW, &corev1.Node{}, "node-gc", 20*time.Second, "DiskPressure gone", func(n *corev1.Node) bool {
		return nodeCondition(n, corev1.NodeDiskPressure) == corev1.ConditionFalse
	})
	images, err := rt.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, img := range images {
		tags = append(tags, img.Tags...)
	}
	if slices.Contains(tags, "registry.local/big:1") || !slices.Contains(tags, "registry.local/app:1") {
		t.Errorf("images after reclaim %v: want the big one gone and the pod's kept", tags)
	}
	got, err := cs.CoreV1().Pods("default").Get(ctx, "besteffort", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if evicted(got) || !running(got) {
		t.Errorf("pod evicted although reclaim sufficed: %s %s", got.Status.Phase, got.Status.Message)
	}

	// Pressure that reclaim cannot relieve still evicts.
	base.Store(950 * mi)
	until(t, lw, &corev1.Pod{}, "besteffort", 20*time.Second, "evicted when reclaim is not enough", evicted)
}

// TestDeadContainersKeptForPrevious runs a crash-looping pod: dead
// containers beyond the newest one are removed, and the container that
// lastState names (what `kubectl logs --previous` reads) is kept.
func TestDeadContainersKeptForPrevious(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler = true })
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	rt := fake.New(fake.Config{})
	runAgent(t, agent.Config{NodeName: "node-dead", Client: cs, Runtime: rt, DataDir: t.TempDir(),
		BackoffInitial: 50 * time.Millisecond, BackoffMax: 100 * time.Millisecond, GCPeriod: 100 * time.Millisecond})
	ctx := context.Background()
	p := newPod("crasher", "node-dead", corev1.RestartPolicyAlways, map[string]string{fake.AnnotationExitCode: "1", fake.AnnotationRunSeconds: "0.05"})
	if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := until(t, podLW(cs, "default"), &corev1.Pod{}, "crasher", 30*time.Second, "5 restarts", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 5 &&
			p.Status.ContainerStatuses[0].LastTerminationState.Terminated != nil
	})
	restarts := uint32(got.Status.ContainerStatuses[0].RestartCount)
	// The runtime runs on while the test reads it: a new attempt may be
	// created just before the oldest kept one goes, so read it until it
	// holds two (the fake runtime has no watch to wait on).
	var attempts []uint32
	deadline := time.Now().Add(5 * time.Second)
	for {
		containers, err := rt.ListContainers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		attempts = attempts[:0]
		for _, c := range containers {
			attempts = append(attempts, c.Metadata.Attempt)
		}
		if len(attempts) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	slices.Sort(attempts)
	switch {
	case len(attempts) != 2:
		t.Errorf("attempts %v in the runtime after %d restarts, want the current and the previous", attempts, restarts)
	case attempts[1] < restarts || attempts[0] != attempts[1]-1:
		t.Errorf("attempts %v in the runtime after %d restarts, want the newest two", attempts, restarts)
	}
}
