package ttlafterfinished

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// Config is what the controller needs.
type Config struct {
	// Client reads and deletes Jobs.
	Client kubernetes.Interface
	// Jobs is the shared Job informer.
	Jobs batchinformers.JobInformer
	// Logger receives the controller's logs; nil discards them.
	Logger *slog.Logger
	// Clock is the time source, also for the waits until a Job is due;
	// nil is the real clock.
	Clock clock.WithTicker
}

// Controller deletes finished Jobs whose TTL has passed.
type Controller struct {
	// client reads and deletes Jobs.
	client kubernetes.Interface
	// jobs reads the informer's cache.
	jobs batchlisters.JobLister
	// synced reports whether the cache has synced.
	synced cache.InformerSynced
	// queue holds the keys of finished Jobs with a TTL.
	queue  workqueue.TypedRateLimitingInterface[string]
	logger *slog.Logger
	clock  clock.WithTicker
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Jobs == nil {
		return nil, errors.New("ttl-after-finished controller: client and informer are required")
	}
	c := &Controller{client: cfg.Client, jobs: cfg.Jobs.Lister(), synced: cfg.Jobs.Informer().HasSynced, logger: cfg.Logger, clock: cfg.Clock}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "ttl-after-finished", Clock: c.clock})
	enqueue := func(obj any) {
		if j, ok := obj.(*batchv1.Job); ok && needsCleanup(j) {
			kit.Enqueue(c.queue)(j)
		}
	}
	_, err := cfg.Jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	})
	if err != nil {
		return nil, fmt.Errorf("ttl-after-finished controller: adding job handler: %w", err)
	}
	return c, nil
}

// Run processes due Jobs with workers goroutines until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error {
	l := kit.Loop{Name: "ttl-after-finished", Queue: c.queue, Sync: c.sync, Synced: []cache.InformerSynced{c.synced}, Logger: c.logger}
	return l.Run(ctx, workers)
}

// sync deletes a Job whose TTL has passed, or waits until it does.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.jobs.Jobs(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading job %s from the cache: %w", key, err)
	}
	if wait, due := c.remaining(cached); !due {
		return waitFor(wait)
	}
	// The cache may be stale: check the live object before deleting.
	fresh, err := c.client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("reading job %s: %w", key, err)
	}
	if wait, due := c.remaining(fresh); !due {
		return waitFor(wait)
	}
	err = c.client.BatchV1().Jobs(ns).Delete(ctx, name, metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
		Preconditions:     &metav1.Preconditions{ResourceVersion: &fresh.ResourceVersion},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting expired job %s: %w", key, err)
	}
	c.logger.Info("deleted job after its TTL", "job", key)
	return nil
}

// waitFor requeues after d, or drops the key (d < 0: nothing to wait for).
func waitFor(d time.Duration) error {
	if d < 0 {
		return nil
	}
	return kit.RequeueAfter(d)
}

// remaining returns how long until the Job is due and whether it is due
// now; a negative wait means it will never be due (no TTL, not finished,
// being deleted).
func (c *Controller) remaining(j *batchv1.Job) (time.Duration, bool) {
	if !needsCleanup(j) {
		return -1, false
	}
	expire, ok := expireAt(j)
	if !ok {
		return -1, false
	}
	wait := expire.Sub(c.clock.Now())
	return wait, wait <= 0
}

// needsCleanup reports whether a Job has a TTL, has finished and is not
// already being deleted.
func needsCleanup(j *batchv1.Job) bool {
	return j.Spec.TTLSecondsAfterFinished != nil && j.DeletionTimestamp == nil && finishedAt(j) != nil
}

// finishedAt returns when the Job got its terminal condition, or nil.
func finishedAt(j *batchv1.Job) *metav1.Time {
	for i := range j.Status.Conditions {
		c := &j.Status.Conditions[i]
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return &c.LastTransitionTime
		}
	}
	return nil
}

// expireAt is when a finished Job with a TTL is due for deletion.
func expireAt(j *batchv1.Job) (time.Time, bool) {
	at := finishedAt(j)
	if at == nil || j.Spec.TTLSecondsAfterFinished == nil {
		return time.Time{}, false
	}
	return at.Add(time.Duration(*j.Spec.TTLSecondsAfterFinished) * time.Second), true
}
