// Package leader runs a component only while it holds a Lease, so that
// several control-plane processes can run the scheduler and controller
// manager with exactly one active at a time.
package leader

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Default lease timing: a new leader takes over at most
// LeaseDuration+RetryPeriod after the old one stops renewing.
const (
	DefaultLeaseDuration = 10 * time.Second
	DefaultRenewDeadline = 7 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// Config names the Lease and the candidate.
type Config struct {
	// Client reads and writes the Lease.
	Client kubernetes.Interface
	// Namespace (kube-system when empty) and Name of the Lease.
	Namespace, Name string
	// Identity of this candidate; "" is the hostname plus a random suffix.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod; zero uses the defaults.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Logger receives leadership changes; nil discards them.
	Logger *slog.Logger
}

// Run calls lead with a context that lives while this candidate holds the
// Lease. When the Lease is lost, lead's context is cancelled; once lead has
// returned the candidate campaigns again. Run returns when ctx ends, or
// with lead's error (after releasing the Lease).
func Run(ctx context.Context, cfg Config, lead func(context.Context) error) error {
	if cfg.Client == nil || cfg.Name == "" {
		return fmt.Errorf("leader election: a client and a lease name are required")
	}
	if cfg.Namespace == "" {
		cfg.Namespace = metav1.NamespaceSystem
	}
	if cfg.Identity == "" {
		host, _ := os.Hostname()
		cfg.Identity = host + "_" + string(uuid.NewUUID())
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: cfg.Namespace, Name: cfg.Name},
		Client:     cfg.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: cfg.Identity},
	}
	for ctx.Err() == nil {
		if err := term(ctx, cfg, lock, lead); err != nil {
			return err
		}
	}
	return nil
}

// term campaigns once and, if elected, runs lead until the Lease is lost
// or ctx ends. The elector calls OnStartedLeading in its own goroutine; the
// term's context is handed over a channel so that this function owns lead
// and returns only after it has stopped.
func term(ctx context.Context, cfg Config, lock resourcelock.Interface, lead func(context.Context) error) error {
	terms := make(chan context.Context, 1)
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   orDefault(cfg.LeaseDuration, DefaultLeaseDuration),
		RenewDeadline:   orDefault(cfg.RenewDeadline, DefaultRenewDeadline),
		RetryPeriod:     orDefault(cfg.RetryPeriod, DefaultRetryPeriod),
		ReleaseOnCancel: true,
		Name:            cfg.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) { terms <- lctx },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return fmt.Errorf("leader election %s: %w", cfg.Name, err)
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
		cfg.Logger.Info("became leader", "lease", lock.Describe(), "identity", cfg.Identity)
		err := lead(lctx)
		cancel() // releases the Lease, also when lead failed
		<-electorDone
		if err != nil {
			return fmt.Errorf("%s: %w", cfg.Name, err)
		}
		return nil
	}
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
