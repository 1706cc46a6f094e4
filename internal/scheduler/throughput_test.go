package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// TestThroughput measures pods bound per second: SKIFF_SCHED_PODS pods
// (default 1000) onto SKIFF_SCHED_NODES hollow nodes (default 100). It runs
// only when SKIFF_SCHED_BENCH=1.
func TestThroughput(t *testing.T) {
	if os.Getenv("SKIFF_SCHED_BENCH") != "1" {
		t.Skip("set SKIFF_SCHED_BENCH=1 to measure scheduling throughput")
	}
	nodes, pods := envInt("SKIFF_SCHED_NODES", 100), envInt("SKIFF_SCHED_PODS", 1000)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := startCluster(t, ctx)
	defer c.stop()
	defer cancel()
	c.runNodes("n-", nodes, "64")

	var nbound atomic.Int64
	bound := make(chan error, 1)
	go func() { bound <- countBound(ctx, c, pods, &nbound) }()
	start := time.Now()
	errs := make(chan error, pods)
	var wg sync.WaitGroup
	const creators = 16
	for w := 0; w < creators; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < pods; i += creators {
				p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("p-%d", i), Namespace: "default"},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img"}}}}
				if _, err := c.cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("creating pods: %v", err)
	}
	created := time.Since(start)
	if err := <-bound; err != nil {
		t.Fatalf("%d of %d pods bound: %v", nbound.Load(), pods, err)
	}
	d := time.Since(start)
	t.Logf("%d pods onto %d hollow nodes: created in %v, all bound in %v: %.0f pods/s", pods, nodes,
		created.Round(time.Millisecond), d.Round(time.Millisecond), float64(pods)/d.Seconds())
}

// countBound watches pods until n are bound (or 2 minutes pass).
func countBound(ctx context.Context, c *cluster, n int, bound *atomic.Int64) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	seen := map[string]bool{}
	lw := cache.NewListWatchFromClient(c.cs.CoreV1().RESTClient(), "pods", "default", fields.Everything())
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Pod{}, nil, func(ev watch.Event) (bool, error) {
		if p, ok := ev.Object.(*corev1.Pod); ok && p.Spec.NodeName != "" {
			seen[p.Name] = true
			bound.Store(int64(len(seen)))
		}
		return len(seen) == n, nil
	})
	return err
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
