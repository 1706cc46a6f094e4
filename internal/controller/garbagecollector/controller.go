package garbagecollector

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/workqueue"
)

// Defaults of the Config durations.
const (
	defaultResyncPeriod = 30 * time.Second
	defaultSyncTimeout  = time.Minute
	// notSyncedRetry is how long an owner whose deletion needs the whole
	// graph waits while some monitor has not listed its type yet.
	notSyncedRetry = time.Second
)

// DiscoverFunc returns the API's resource types, as
// discovery.ServerPreferredResources does. A
// *discovery.ErrGroupDiscoveryFailed error may come with partial results.
type DiscoverFunc func() ([]*metav1.APIResourceList, error)

// Config is what the collector needs.
type Config struct {
	// Metadata watches, reads, patches and deletes objects of every type.
	Metadata metadata.Interface
	// Discover lists the resource types to watch.
	Discover DiscoverFunc
	// Logger receives the collector's logs; nil discards them.
	Logger *slog.Logger
	// ResyncPeriod is how often resource types are discovered again;
	// zero means 30s.
	ResyncPeriod time.Duration
	// SyncTimeout bounds the wait for the first listing of every type
	// before the workers start anyway; zero means a minute.
	SyncTimeout time.Duration
}

// Controller is the garbage collector.
type Controller struct {
	// metadata reads, patches and deletes objects of any type.
	metadata metadata.Interface
	// discover finds the resource types to watch.
	discover DiscoverFunc
	// graph links owners and dependents.
	graph *graph
	// monitors watch every resource type and hold the kind-to-resource table.
	monitors *monitors
	// absent remembers owners verified absent (UIDs are never reused).
	absent *absentOwners
	// queue holds the UIDs of objects to sync.
	queue workqueue.TypedRateLimitingInterface[types.UID]
	// logger receives progress and errors.
	logger *slog.Logger
	// resyncPeriod and syncTimeout: see Config.
	resyncPeriod, syncTimeout time.Duration
}

// NewController builds the collector. Nothing runs before Run.
func NewController(cfg Config) (*Controller, error) {
	if cfg.Metadata == nil || cfg.Discover == nil {
		return nil, errors.New("garbage collector: metadata client and discovery are required")
	}
	c := &Controller{
		metadata:     cfg.Metadata,
		discover:     cfg.Discover,
		graph:        newGraph(),
		monitors:     &monitors{running: map[schema.GroupVersionResource]*monitor{}},
		absent:       newAbsentOwners(4096),
		logger:       cfg.Logger,
		resyncPeriod: cfg.ResyncPeriod,
		syncTimeout:  cfg.SyncTimeout,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[types.UID](),
			workqueue.TypedRateLimitingQueueConfig[types.UID]{Name: "garbagecollector"}),
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.resyncPeriod <= 0 {
		c.resyncPeriod = defaultResyncPeriod
	}
	if c.syncTimeout <= 0 {
		c.syncTimeout = defaultSyncTimeout
	}
	return c, nil
}

// Run discovers the resource types and watches them, waits for the graph
// to fill, runs workers until ctx is done, then stops everything.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer c.queue.ShutDown()
	c.logger.Info("starting garbage collector", "workers", workers)
	var wg sync.WaitGroup
	defer c.stopMonitors() // after wg.Wait: no worker reads the monitors then
	defer wg.Wait()
	wg.Go(func() { c.rediscover(ctx) })
	c.waitForGraph(ctx)
	if ctx.Err() != nil {
		c.queue.ShutDown()
		return nil
	}
	c.logger.Info("garbage collector graph ready", "nodes", c.graph.size())
	for range workers {
		wg.Go(func() {
			for c.processNext(ctx) {
			}
		})
	}
	<-ctx.Done()
	c.queue.ShutDown()
	c.logger.Info("stopping garbage collector")
	return nil
}

// rediscover looks up the resource types now and every resyncPeriod, so
// monitors follow new and removed types.
func (c *Controller) rediscover(ctx context.Context) {
	ticker := time.NewTicker(c.resyncPeriod)
	defer ticker.Stop()
	for {
		if err := c.resyncMonitors(ctx); err != nil {
			c.logger.Warn("garbage collector discovery", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// waitForGraph returns once every monitor has listed its type, or after
// syncTimeout (a type that cannot be listed must not stop collection of
// the others; deletions that need the whole graph keep waiting for it).
func (c *Controller) waitForGraph(ctx context.Context) {
	timeout := time.NewTimer(c.syncTimeout)
	defer timeout.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !c.synced() {
		select {
		case <-ctx.Done():
			return
		case <-timeout.C:
			c.logger.Warn("garbage collector starting before every resource type is listed", "unsynced", c.unsynced())
			return
		case <-tick.C:
		}
	}
}

// processNext syncs one object from the queue; it returns false when the
// queue is shut down.
func (c *Controller) processNext(ctx context.Context) bool {
	uid, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(uid)
	if err := c.sync(ctx, uid); err != nil {
		if ctx.Err() == nil {
			c.logger.Warn("garbage collector sync", "uid", uid, "error", err)
		}
		c.queue.AddRateLimited(uid)
		return true
	}
	c.queue.Forget(uid)
	return true
}

// sync brings one object forward, level-based: an owner deleting with the
// orphan or foregroundDeletion finalizer takes the next step of that
// deletion; an object whose owners may be gone is checked and collected.
func (c *Controller) sync(ctx context.Context, uid types.UID) error {
	n, ok := c.graph.view(uid)
	if !ok || n.virtual {
		return nil
	}
	switch {
	case n.orphaning:
		return c.orphanDependents(ctx, n)
	case n.deletingDependents:
		return c.deleteDependents(ctx, n)
	case n.deleting || len(n.owners) == 0 || !needsCheck(n.ref, n.owners):
		return nil
	}
	return c.collect(ctx, n)
}

// Run builds a collector from cfg and runs it with workers until ctx is
// done.
func Run(ctx context.Context, cfg Config, workers int) error {
	c, err := NewController(cfg)
	if err != nil {
		return err
	}
	return c.Run(ctx, workers)
}

// DiscoverWith is the DiscoverFunc of a discovery client: the preferred
// version of every resource type.
func DiscoverWith(d discovery.DiscoveryInterface) DiscoverFunc {
	return func() ([]*metav1.APIResourceList, error) { return discovery.ServerPreferredResources(d) }
}
