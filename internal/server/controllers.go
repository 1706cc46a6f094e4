package server

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/controller/kit"
	"github.com/skiffkube/skiff/internal/leader"
	"github.com/skiffkube/skiff/internal/scheduler"
)

// controllerResync is how often the controllers' informers replay their
// caches to the handlers.
const controllerResync = 10 * time.Minute

// ControllerOptions tunes the controller manager.
type ControllerOptions struct {
	// LeaseDuration, RenewDeadline and RetryPeriod time the leader
	// election of the controller manager and scheduler; zero uses the
	// defaults of internal/leader (10 s, 7 s, 2 s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// NodeMonitorGracePeriod is how long a node may stay silent before it
	// is marked unknown (50 s); NodeMonitorPeriod how often nodes are
	// checked (5 s); NodeEvictionRate how many nodes per second may get a
	// NoExecute taint (0.1).
	NodeMonitorGracePeriod, NodeMonitorPeriod time.Duration
	NodeEvictionRate                          float32
	// Disabled names controllers not to run (as upstream's
	// --controllers=-name): "job", "garbagecollector", ... — the names in
	// the controller manager's logs. Tests running their own instance of
	// a controller disable the server's.
	Disabled []string
	// TerminatedPodGCThreshold is how many finished pods are kept before
	// the oldest are deleted (12500; negative keeps all).
	TerminatedPodGCThreshold int
}

// credentialsFunc returns the client config of a component, with its own
// identity (see Server.ComponentConfig).
type credentialsFunc func(component string) (*rest.Config, error)

// runControllers runs the scheduler and the controller manager, each under
// leader election and with its own identity, until ctx is done.
func runControllers(ctx context.Context, creds credentialsFunc, opts Config) error {
	g, gctx := errgroup.WithContext(ctx)
	if opts.DisableControllerManager {
		opts.Logger.Info("controller manager disabled")
	} else {
		g.Go(func() error {
			cfg, err := creds(ComponentControllerManager)
			if err != nil {
				return err
			}
			return runControllerManager(gctx, cfg, opts)
		})
	}
	if opts.DisableScheduler {
		opts.Logger.Info("scheduler disabled")
	} else {
		g.Go(func() error {
			cfg, err := creds(ComponentScheduler)
			if err != nil {
				return err
			}
			return runScheduler(gctx, cfg, opts)
		})
	}
	return g.Wait()
}

// election is the leader election config for one component.
func election(client kubernetes.Interface, name string, opts Config, logger *slog.Logger) leader.Config {
	c := opts.Controllers
	return leader.Config{
		Client: client, Name: name, Logger: logger,
		LeaseDuration: c.LeaseDuration, RenewDeadline: c.RenewDeadline, RetryPeriod: c.RetryPeriod,
	}
}

// runScheduler schedules pods while holding the skiff-scheduler Lease.
func runScheduler(ctx context.Context, cfg *rest.Config, opts Config) error {
	// The scheduler has its own client: binds and status patches come in
	// bursts of thousands.
	sc := withAgent(cfg, "skiff-scheduler")
	sc.QPS, sc.Burst = 5000, 10000
	sc.ContentType = "application/vnd.kubernetes.protobuf"
	sc.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(sc)
	if err != nil {
		return fmt.Errorf("scheduler client: %w", err)
	}
	logger := opts.Logger.With("component", "scheduler")
	return leader.Run(ctx, election(cs, "skiff-scheduler", opts, logger), func(lctx context.Context) error {
		s, err := scheduler.New(scheduler.Config{Client: cs, Logger: logger, Profiles: opts.SchedulerProfiles})
		if err != nil {
			return err
		}
		return s.Run(lctx)
	})
}

// runControllerManager runs every controller while holding the
// skiff-controller-manager Lease. Each term gets fresh informers.
func runControllerManager(ctx context.Context, cfg *rest.Config, opts Config) error {
	cfg = withAgent(cfg, "skiff-controller-manager")
	// Controllers issue bursts of requests (a namespace deletion lists
	// every resource type, a 1,000-replica ReplicaSet creates 1,000 pods);
	// client-go's default of 5 QPS would throttle them.
	cfg.QPS, cfg.Burst = 500, 1000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("controller manager client: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("controller manager metadata client: %w", err)
	}
	logger := opts.Logger.With("component", "controller-manager")
	return leader.Run(ctx, election(client, "skiff-controller-manager", opts, logger), func(lctx context.Context) error {
		return runControllerTerm(lctx, controllerClients{rest: cfg, client: client, meta: meta}, opts, logger)
	})
}

// controllerClients are the clients every controller shares.
type controllerClients struct {
	rest   *rest.Config
	client kubernetes.Interface
	meta   metadata.Interface
}

// runnable is a controller ready to run with a number of workers.
type runnable struct {
	name    string
	workers int
	run     func(ctx context.Context, workers int) error
}

// runControllerTerm builds the controllers over one shared informer
// factory and runs them until ctx ends.
func runControllerTerm(ctx context.Context, cc controllerClients, opts Config, logger *slog.Logger) error {
	factory := informers.NewSharedInformerFactory(cc.client, controllerResync)
	defer factory.Shutdown() // runs after the controllers stopped: waits for the informers
	recorder, stopRecorder := kit.NewRecorder(ctx, cc.client, "skiff-controller-manager")
	defer stopRecorder()
	controllers, err := buildControllers(factory, cc, opts, recorder, logger)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	factory.Start(gctx.Done())
	for _, c := range controllers {
		if slices.Contains(opts.Controllers.Disabled, c.name) {
			logger.Info("controller disabled", "controller", c.name)
			continue
		}
		g.Go(func() error {
			if err := c.run(gctx, c.workers); err != nil {
				return fmt.Errorf("%s controller: %w", c.name, err)
			}
			return nil
		})
	}
	return g.Wait()
}
