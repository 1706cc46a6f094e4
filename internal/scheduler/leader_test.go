package scheduler_test

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/skiffkube/skiff/internal/scheduler"
	"github.com/skiffkube/skiff/internal/server"
)

// cuttable fails every request once cut, as a crashed or partitioned
// process would: its Lease is neither renewed nor released.
type cuttable struct {
	next http.RoundTripper
	cut  *atomic.Bool
}

func (c cuttable) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.cut.Load() {
		return nil, errors.New("cut off")
	}
	return c.next.RoundTrip(r)
}

// TestLeaderFailover runs two leader-elected schedulers against one
// server: only the leader binds; when it dies without releasing its Lease
// the other takes over within 15 s and binds the pods left pending.
func TestLeaderFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a Lease to expire")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := startCluster(t, ctx, func(cfg *server.Config) { cfg.DisableScheduler = true })
	defer c.stop()
	defer cancel()
	c.runNodes("n-", 2, "4")

	var cut atomic.Bool
	rcA := c.srv.AdminConfig()
	rcA.Wrap(func(rt http.RoundTripper) http.RoundTripper { return cuttable{next: rt, cut: &cut} })
	run := func(ctx context.Context, rc *rest.Config, id string) chan error {
		done := make(chan error, 1)
		cfg := scheduler.Config{Client: kubernetes.NewForConfigOrDie(rc), Seed: 1}
		go func() { done <- scheduler.RunWithLeaderElection(ctx, cfg, scheduler.LeaderConfig{Identity: id}) }()
		return done
	}
	ctxA, cancelA := context.WithCancel(ctx)
	defer cancelA()
	doneA := run(ctxA, rcA, "a")
	c.untilLeader("a")
	doneB := run(ctx, c.srv.AdminConfig(), "b")

	c.createPod("first", "100m", nil)
	c.untilPod("first", running)

	// A dies: its requests fail, so the Lease is left to expire.
	cut.Store(true)
	died := time.Now()
	cancelA()
	if err := <-doneA; err != nil {
		t.Errorf("scheduler a: %v", err)
	}
	c.createPod("second", "100m", nil)
	c.untilLeader("b")
	p := c.untilPod("second", func(p *corev1.Pod) bool { return p.Spec.NodeName != "" })
	took := time.Since(died)
	t.Logf("b took over and bound %s to %s %v after a died", p.Name, p.Spec.NodeName, took.Round(time.Millisecond))
	if took > 15*time.Second {
		t.Errorf("takeover took %v, want at most 15s", took)
	}
	cancel()
	if err := <-doneB; err != nil {
		t.Errorf("scheduler b: %v", err)
	}
}

// untilLeader waits until the scheduler Lease names the identity.
func (c *cluster) untilLeader(id string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(c.ctx, 20*time.Second)
	defer cancel()
	lw := cache.NewListWatchFromClient(c.cs.CoordinationV1().RESTClient(), "leases", metav1.NamespaceSystem, fields.Everything())
	_, err := watchtools.UntilWithSync(ctx, lw, &coordinationv1.Lease{}, nil, func(ev watch.Event) (bool, error) {
		l, ok := ev.Object.(*coordinationv1.Lease)
		return ok && l.Name == "skiff-scheduler" && l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity == id, nil
	})
	if err != nil {
		c.t.Fatalf("waiting for leader %q: %v", id, err)
	}
}
