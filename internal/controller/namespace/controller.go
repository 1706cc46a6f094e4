package namespace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Default requeue bounds while content remains in a terminating namespace.
const (
	defaultMinRequeue = 3 * time.Second
	defaultMaxRequeue = 10 * time.Second
)

// DiscoverFunc returns the API's namespaced resource types, as
// discovery.ServerPreferredNamespacedResources does. A
// *discovery.ErrGroupDiscoveryFailed error may come with partial results.
type DiscoverFunc func() ([]*metav1.APIResourceList, error)

// Config is what the controller needs.
type Config struct {
	// Client updates namespaces (status, finalize, delete).
	Client kubernetes.Interface
	// Metadata lists and deletes the content of namespaces, any type.
	Metadata metadata.Interface
	// Discover lists the namespaced resource types to empty.
	Discover DiscoverFunc
	// Namespaces is the shared namespace informer.
	Namespaces coreinformers.NamespaceInformer
	// Logger receives the controller's logs; nil discards them.
	Logger *slog.Logger
	// MinRequeue and MaxRequeue bound how long the controller waits
	// before looking again at a namespace whose content is not gone yet;
	// zero means 3s and 10s.
	MinRequeue, MaxRequeue time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Controller empties terminating namespaces and finalizes them.
type Controller struct {
	// client writes namespaces: status conditions, finalize, delete.
	client kubernetes.Interface
	// metadata lists and deletes namespaced content of every type.
	metadata metadata.Interface
	// discover finds the namespaced resource types.
	discover DiscoverFunc
	// lister reads namespaces from the informer's cache.
	lister corelisters.NamespaceLister
	// synced reports whether the namespace cache has synced.
	synced cache.InformerSynced
	// queue holds the names of namespaces to sync.
	queue workqueue.TypedRateLimitingInterface[string]
	// logger receives progress and errors.
	logger *slog.Logger
	// minRequeue and maxRequeue bound the wait for remaining content.
	minRequeue, maxRequeue time.Duration
	// now is the clock.
	now func() time.Time
}

// NewController builds the controller and registers its informer handlers.
func NewController(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Metadata == nil || cfg.Discover == nil || cfg.Namespaces == nil {
		return nil, errors.New("namespace controller: client, metadata client, discovery and informer are required")
	}
	c := &Controller{
		client:     cfg.Client,
		metadata:   cfg.Metadata,
		discover:   cfg.Discover,
		lister:     cfg.Namespaces.Lister(),
		synced:     cfg.Namespaces.Informer().HasSynced,
		logger:     cfg.Logger,
		minRequeue: cfg.MinRequeue,
		maxRequeue: cfg.MaxRequeue,
		now:        cfg.Now,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
			workqueue.TypedRateLimitingQueueConfig[string]{Name: "namespace"}),
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.minRequeue <= 0 {
		c.minRequeue = defaultMinRequeue
	}
	if c.maxRequeue < c.minRequeue {
		c.maxRequeue = max(defaultMaxRequeue, c.minRequeue)
	}
	if c.now == nil {
		c.now = time.Now
	}
	_, err := cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("namespace controller: adding informer handler: %w", err)
	}
	return c, nil
}

// enqueue queues a namespace that is being deleted; others need nothing.
func (c *Controller) enqueue(obj any) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok || ns.DeletionTimestamp == nil {
		return
	}
	c.queue.Add(ns.Name)
}

// Run waits for the cache, runs workers until ctx is done, then stops
// them and returns.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer c.queue.ShutDown()
	c.logger.Info("starting namespace controller", "workers", workers)
	if !cache.WaitForCacheSync(ctx.Done(), c.synced) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("namespace controller: the namespace cache did not sync")
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for c.processNext(ctx) {
			}
		})
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	c.logger.Info("stopped namespace controller")
	return nil
}

// processNext syncs one namespace from the queue; it returns false when
// the queue is shut down.
func (c *Controller) processNext(ctx context.Context) bool {
	name, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(name)
	if err := c.sync(ctx, name); err != nil {
		if ctx.Err() == nil {
			c.logger.Warn("syncing namespace", "namespace", name, "error", err)
		}
		c.queue.AddRateLimited(name)
		return true
	}
	c.queue.Forget(name)
	return true
}

// sync empties a terminating namespace. While content remains it records
// why in the namespace's conditions and looks again later; once empty it
// removes the "kubernetes" finalizer.
func (c *Controller) sync(ctx context.Context, name string) error {
	cached, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading namespace %s from the cache: %w", name, err)
	}
	if cached.DeletionTimestamp == nil || !slices.Contains(cached.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	report := c.deleteContent(ctx, name)
	ns, err := c.updateConditions(ctx, cached.DeepCopy(), report)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := report.err(); err != nil {
		return fmt.Errorf("deleting the content of namespace %s: %w", name, err)
	}
	if report.contentLeft() {
		wait := c.requeueAfter(report)
		c.logger.Debug("namespace content remaining", "namespace", name, "resources", report.remaining, "finalizers", report.finalizers, "requeue", wait)
		c.queue.AddAfter(name, wait)
		return nil
	}
	return c.finalize(ctx, ns)
}

// requeueAfter is how long to wait before looking again at content that
// remains: a second past the longest pod grace period left, within the
// controller's bounds (objects held by finalizers give no estimate).
func (c *Controller) requeueAfter(report contentReport) time.Duration {
	return min(max(report.podWait+time.Second, c.minRequeue), c.maxRequeue)
}

// updateConditions writes the deletion conditions for report if they
// changed, and returns the namespace as last written.
func (c *Controller) updateConditions(ctx context.Context, ns *corev1.Namespace, report contentReport) (*corev1.Namespace, error) {
	conds := mergeConditions(ns.Status.Conditions, report.conditions(), metav1.NewTime(c.now()))
	if ns.Status.Phase == corev1.NamespaceTerminating && conditionsEqual(ns.Status.Conditions, conds) {
		return ns, nil
	}
	ns.Status.Phase = corev1.NamespaceTerminating
	ns.Status.Conditions = conds
	out, err := c.client.CoreV1().Namespaces().UpdateStatus(ctx, ns, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("updating the status of namespace %s: %w", ns.Name, err)
	}
	return out, nil
}

// finalize removes this controller's finalizer from an emptied namespace
// and deletes the namespace again if nothing else holds it.
func (c *Controller) finalize(ctx context.Context, ns *corev1.Namespace) error {
	ns = ns.DeepCopy()
	ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f corev1.FinalizerName) bool {
		return f == corev1.FinalizerKubernetes
	})
	out, err := c.client.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("finalizing namespace %s: %w", ns.Name, err)
	}
	c.logger.Info("namespace emptied and finalized", "namespace", ns.Name)
	if len(out.Spec.Finalizers) > 0 {
		return nil
	}
	// The UID precondition keeps a namespace re-created under the same
	// name from being deleted.
	uid := ns.UID
	err = c.client.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting finalized namespace %s: %w", ns.Name, err)
	}
	return nil
}
