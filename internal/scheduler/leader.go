package scheduler

import (
	"context"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Lease timing: a new leader takes over at most leaseDuration+retryPeriod
// after the old one stops renewing.
const (
	leaseDuration = 10 * time.Second
	renewDeadline = 7 * time.Second
	retryPeriod   = 2 * time.Second
)

// LeaderConfig names the Lease that elects the scheduling leader.
type LeaderConfig struct {
	// Namespace and Name of the Lease (kube-system/skiff-scheduler).
	Namespace, Name string
	// Identity of this candidate (hostname plus a random suffix).
	Identity string
}

// RunWithLeaderElection schedules with cfg only while holding the Lease:
// each term runs a fresh Scheduler; losing the Lease stops it and this
// candidate campaigns again. It returns when ctx ends.
func RunWithLeaderElection(ctx context.Context, cfg Config, lc LeaderConfig) error {
	if cfg.Client == nil {
		return fmt.Errorf("scheduler: a client is required")
	}
	if lc.Namespace == "" {
		lc.Namespace = metav1.NamespaceSystem
	}
	if lc.Name == "" {
		lc.Name = "skiff-scheduler"
	}
	if lc.Identity == "" {
		host, _ := os.Hostname()
		lc.Identity = host + "_" + string(uuid.NewUUID())
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: lc.Namespace, Name: lc.Name},
		Client:     cfg.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: lc.Identity},
	}
	for ctx.Err() == nil {
		if err := runTerm(ctx, cfg, lock, lc.Name); err != nil {
			return err
		}
	}
	return nil
}

// runTerm campaigns once and, if elected, schedules until the Lease is lost
// or ctx ends. The elector calls OnStartedLeading in its own goroutine; the
// term's context is handed over a channel so this function owns the
// scheduler and returns only after it has stopped.
func runTerm(ctx context.Context, cfg Config, lock resourcelock.Interface, name string) error {
	terms := make(chan context.Context, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   leaseDuration,
		RenewDeadline:   renewDeadline,
		RetryPeriod:     retryPeriod,
		ReleaseOnCancel: true,
		Name:            name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) { terms <- lctx },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return fmt.Errorf("scheduler: leader election: %w", err)
	}
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	electorDone := make(chan struct{})
	go func() {
		defer close(electorDone)
		le.Run(ectx)
	}()
	select {
	case <-electorDone:
		return nil
	case lctx := <-terms:
		if cfg.Logger != nil {
			cfg.Logger.Info("became the scheduling leader", "lease", lock.Describe())
		}
		s, err := New(cfg)
		if err == nil {
			err = s.Run(lctx)
		}
		cancel() // releases the Lease when the scheduler failed
		<-electorDone
		return err
	}
}
