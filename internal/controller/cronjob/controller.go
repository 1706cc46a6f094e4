package cronjob

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// cronJobKind is the owner reference kind of the Jobs a CronJob creates.
var cronJobKind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// Config is what the controller needs.
type Config struct {
	// Client creates and deletes Jobs and writes CronJob status.
	Client kubernetes.Interface
	// CronJobs and Jobs are shared informers.
	CronJobs batchinformers.CronJobInformer
	Jobs     batchinformers.JobInformer
	// Recorder records Events; nil records none.
	Recorder record.EventRecorder
	// Logger receives the controller's logs; nil discards them.
	Logger *slog.Logger
	// Clock is the time source, also for the waits until the next
	// scheduled time; nil is the real clock.
	Clock clock.WithTicker
}

// Controller starts CronJobs' Jobs on schedule.
type Controller struct {
	// client writes Jobs and CronJob status.
	client kubernetes.Interface
	// cronJobs and jobs read the informers' caches.
	cronJobs batchlisters.CronJobLister
	jobs     batchlisters.JobLister
	// synced are the informers' HasSynced functions.
	synced []cache.InformerSynced
	// queue holds the namespace/name keys of CronJobs to sync.
	queue    workqueue.TypedRateLimitingInterface[string]
	recorder record.EventRecorder
	logger   *slog.Logger
	clock    clock.WithTicker
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.CronJobs == nil || cfg.Jobs == nil {
		return nil, errors.New("cronjob controller: client and informers are required")
	}
	c := &Controller{
		client:   cfg.Client,
		cronJobs: cfg.CronJobs.Lister(),
		jobs:     cfg.Jobs.Lister(),
		synced:   []cache.InformerSynced{cfg.CronJobs.Informer().HasSynced, cfg.Jobs.Informer().HasSynced},
		recorder: cfg.Recorder,
		logger:   cfg.Logger,
		clock:    cfg.Clock,
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.recorder == nil {
		c.recorder = &record.FakeRecorder{}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "cronjob", Clock: c.clock})
	if _, err := cfg.CronJobs.Informer().AddEventHandler(kit.Handlers(c.queue)); err != nil {
		return nil, fmt.Errorf("cronjob controller: adding cronjob handler: %w", err)
	}
	enqueueOwner := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		j, ok := obj.(*batchv1.Job)
		if !ok {
			return
		}
		if ref := metav1.GetControllerOfNoCopy(j); ref != nil && ref.Kind == cronJobKind.Kind && ref.APIVersion == cronJobKind.GroupVersion().String() {
			c.queue.Add(j.Namespace + "/" + ref.Name)
		}
	}
	_, err := cfg.Jobs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueOwner,
		UpdateFunc: func(_, obj any) { enqueueOwner(obj) },
		DeleteFunc: enqueueOwner,
	})
	if err != nil {
		return nil, fmt.Errorf("cronjob controller: adding job handler: %w", err)
	}
	return c, nil
}

// Run syncs CronJobs with workers goroutines until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error {
	l := kit.Loop{Name: "cronjob", Queue: c.queue, Sync: c.sync, Synced: c.synced, Logger: c.logger}
	return l.Run(ctx, workers)
}
