package server

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/controller/garbagecollector"
	"github.com/skiffkube/skiff/internal/controller/namespace"
	"github.com/skiffkube/skiff/internal/scheduler"
)

// controllerResync is how often the controllers' informers replay their
// caches to the handlers.
const controllerResync = 10 * time.Minute

// runControllers runs the controller manager: it builds the clients and the
// shared informers, runs every controller against the API and blocks until
// ctx is done, then stops them all.
func runControllers(ctx context.Context, cfg *rest.Config, opts Config) error {
	logger := opts.Logger
	cfg = withAgent(cfg, "skiff-controller-manager")
	// Controllers issue bursts of requests (a namespace deletion lists
	// every resource type); client-go's default of 5 QPS would throttle them.
	cfg.QPS, cfg.Burst = 200, 400
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("controller manager client: %w", err)
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("controller manager metadata client: %w", err)
	}
	factory := informers.NewSharedInformerFactory(client, controllerResync)
	namespaces, err := namespace.NewController(namespace.Config{
		Client:   client,
		Metadata: meta,
		Discover: func() ([]*metav1.APIResourceList, error) {
			return discovery.ServerPreferredNamespacedResources(client.Discovery())
		},
		Namespaces: factory.Core().V1().Namespaces(),
		Logger:     logger.With("controller", "namespace"),
	})
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	defer factory.Shutdown() // runs after g.Wait: waits for the informers to stop
	factory.Start(gctx.Done())
	if opts.DisableControllerManager {
		logger.Info("controller manager disabled")
	} else {
		g.Go(func() error { return namespaces.Run(gctx, 2) })
		g.Go(func() error {
			return garbagecollector.Run(gctx, garbagecollector.Config{Metadata: meta, Discover: garbagecollector.DiscoverWith(client.Discovery()), Logger: logger.With("controller", "garbagecollector")}, 4)
		})
	}
	if opts.DisableScheduler {
		logger.Info("scheduler disabled")
		return g.Wait()
	}
	g.Go(func() error {
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
		return scheduler.RunWithLeaderElection(gctx, scheduler.Config{Client: cs, Logger: logger.With("component", "scheduler")}, scheduler.LeaderConfig{})
	})
	return g.Wait()
}
