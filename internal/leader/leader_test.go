package leader_test

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/leader"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// TestFailover runs two candidates for one Lease: exactly one leads, and
// when it stops the other takes over within the lease timing.
func TestFailover(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler, c.DisableControllerManager = true, true })
	client, err := kubernetes.NewForConfig(srv.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	type event struct {
		who     string
		leading bool
	}
	events := make(chan event, 10)
	candidate := func(ctx context.Context, who string) <-chan error {
		done := make(chan error, 1)
		go func() {
			done <- leader.Run(ctx, leader.Config{
				Client: client, Name: "test-lease", Identity: who,
				LeaseDuration: 3 * time.Second, RenewDeadline: 2 * time.Second, RetryPeriod: 500 * time.Millisecond,
			}, func(lctx context.Context) error {
				events <- event{who, true}
				<-lctx.Done()
				events <- event{who, false}
				return nil
			})
		}()
		return done
	}
	ctxA, stopA := context.WithCancel(context.Background())
	defer stopA()
	doneA := candidate(ctxA, "a")
	if e := <-events; e != (event{"a", true}) {
		t.Fatalf("first event %+v, want a leading", e)
	}
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	doneB := candidate(ctxB, "b")
	select {
	case e := <-events:
		t.Fatalf("unexpected %+v while a leads", e)
	case <-time.After(4 * time.Second):
	}
	stopA()
	if err := <-doneA; err != nil {
		t.Fatalf("candidate a: %v", err)
	}
	start := time.Now()
	if e := <-events; e != (event{"a", false}) {
		t.Fatalf("got %+v, want a stopped", e)
	}
	select {
	case e := <-events:
		if e != (event{"b", true}) {
			t.Fatalf("got %+v, want b leading", e)
		}
		t.Logf("b took over after %s", time.Since(start))
	case <-time.After(15 * time.Second):
		t.Fatal("b did not take over within 15 s")
	}
	stopB()
	if err := <-doneB; err != nil {
		t.Fatalf("candidate b: %v", err)
	}
}
