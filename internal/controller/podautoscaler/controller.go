package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	autoscalinginformers "k8s.io/client-go/informers/autoscaling/v2"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	autoscalinglisters "k8s.io/client-go/listers/autoscaling/v2"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/scale"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// DefaultSyncPeriod is how often each HPA is reconciled (upstream's
// --horizontal-pod-autoscaler-sync-period).
const DefaultSyncPeriod = 15 * time.Second

// Config is what the controller needs.
type Config struct {
	// Client writes HPA status.
	Client kubernetes.Interface
	// Scales reads and writes the targets' scale subresource; Mapper
	// resolves a scaleTargetRef kind to its resource (see NewScaleClient).
	Scales scale.ScalesGetter
	Mapper meta.RESTMapper
	// Metrics reads pod resource usage (ResourceMetricsClient in a cluster).
	Metrics MetricsClient
	// Informers: the autoscalers and the pods of their targets.
	HPAs autoscalinginformers.HorizontalPodAutoscalerInformer
	Pods coreinformers.PodInformer
	// SyncPeriod is how often each HPA is reconciled; 0 is DefaultSyncPeriod.
	SyncPeriod time.Duration
	// Tolerance is the relative distance to the target ignored; 0 is
	// DefaultTolerance.
	Tolerance float64
	// Recorder receives events; nil records none.
	Recorder record.EventRecorder
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Controller scales the targets of HorizontalPodAutoscalers.
type Controller struct {
	// client writes status; scales and mapper reach the targets.
	client kubernetes.Interface
	scales scale.ScalesGetter
	mapper meta.RESTMapper
	// metrics reads pod usage.
	metrics MetricsClient
	// listers read the caches.
	hpas autoscalinglisters.HorizontalPodAutoscalerLister
	pods corelisters.PodLister
	// period, tolerance, recorder and now: settings, events and time.
	period    time.Duration
	tolerance float64
	recorder  record.EventRecorder
	now       func() time.Time
	// mu guards histories: per HPA key, past recommendations and rescales.
	mu        sync.Mutex
	histories map[string]history
	// loop runs the workers over HPA keys.
	loop kit.Loop
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Scales == nil || cfg.Mapper == nil || cfg.Metrics == nil || cfg.HPAs == nil || cfg.Pods == nil {
		return nil, errors.New("horizontal pod autoscaler controller: client, scales, mapper, metrics and informers are required")
	}
	if cfg.SyncPeriod <= 0 {
		cfg.SyncPeriod = DefaultSyncPeriod
	}
	if cfg.Tolerance <= 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Recorder == nil {
		cfg.Recorder = &record.FakeRecorder{}
	}
	c := &Controller{
		client: cfg.Client, scales: cfg.Scales, mapper: cfg.Mapper, metrics: cfg.Metrics,
		hpas: cfg.HPAs.Lister(), pods: cfg.Pods.Lister(),
		period: cfg.SyncPeriod, tolerance: cfg.Tolerance, recorder: cfg.Recorder, now: cfg.Now,
		histories: map[string]history{},
	}
	c.loop = kit.Loop{
		Name: "horizontal-pod-autoscaler", Queue: kit.NewQueue("horizontal-pod-autoscaler"), Sync: c.sync, Logger: cfg.Logger,
		Synced: []cache.InformerSynced{cfg.HPAs.Informer().HasSynced, cfg.Pods.Informer().HasSynced},
	}
	add := kit.Enqueue(c.loop.Queue)
	// Updates are not enqueued: the controller's own status writes would
	// otherwise re-run it at once; each key requeues itself every period.
	if _, err := cfg.HPAs.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: add,
		UpdateFunc: func(old, obj any) {
			if o, n, ok := specChanged(old, obj); ok && o != n {
				add(obj)
			}
		},
		DeleteFunc: c.forget,
	}); err != nil {
		return nil, fmt.Errorf("horizontal pod autoscaler controller: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

// forget drops a deleted HPA's history.
func (c *Controller) forget(obj any) {
	key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	if err != nil {
		return
	}
	c.mu.Lock()
	delete(c.histories, key)
	c.mu.Unlock()
}

func (c *Controller) history(key string) history {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.histories[key]
}

func (c *Controller) setHistory(key string, h history) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.histories[key] = h
}
