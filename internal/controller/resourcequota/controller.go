package resourcequota

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// DefaultResync is how often every quota is recomputed regardless of
// events (upstream's --resource-quota-sync-period).
const DefaultResync = 5 * time.Minute

// Config is what the controller needs.
type Config struct {
	// Client writes quota status.
	Client kubernetes.Interface
	// Informers for the quotas and the objects they count.
	Quotas                 coreinformers.ResourceQuotaInformer
	Pods                   coreinformers.PodInformer
	Services               coreinformers.ServiceInformer
	ConfigMaps             coreinformers.ConfigMapInformer
	Secrets                coreinformers.SecretInformer
	Claims                 coreinformers.PersistentVolumeClaimInformer
	ReplicationControllers coreinformers.ReplicationControllerInformer
	// Resync is how often every quota is recomputed (5 min).
	Resync time.Duration
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Controller keeps ResourceQuota status.used current.
type Controller struct {
	// client writes status.
	client kubernetes.Interface
	// listers read the caches.
	quotas   corelisters.ResourceQuotaLister
	pods     corelisters.PodLister
	services corelisters.ServiceLister
	cms      corelisters.ConfigMapLister
	secrets  corelisters.SecretLister
	claims   corelisters.PersistentVolumeClaimLister
	rcs      corelisters.ReplicationControllerLister
	// resync is the period of the full recomputation.
	resync time.Duration
	// deleted remembers the UIDs of objects seen deleted, so that their
	// reservations go even if a sync never saw them.
	deleted *uidSet
	// now is the clock for reservation expiry.
	now func() time.Time
	// loop runs the workers over quota keys.
	loop kit.Loop
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Quotas == nil || cfg.Pods == nil || cfg.Services == nil || cfg.ConfigMaps == nil ||
		cfg.Secrets == nil || cfg.Claims == nil || cfg.ReplicationControllers == nil {
		return nil, errors.New("resource quota controller: client and informers are required")
	}
	if cfg.Resync <= 0 {
		cfg.Resync = DefaultResync
	}
	c := &Controller{
		client: cfg.Client, quotas: cfg.Quotas.Lister(), pods: cfg.Pods.Lister(), services: cfg.Services.Lister(),
		cms: cfg.ConfigMaps.Lister(), secrets: cfg.Secrets.Lister(), claims: cfg.Claims.Lister(), rcs: cfg.ReplicationControllers.Lister(),
		resync: cfg.Resync, deleted: newUIDSet(), now: cfg.Now,
	}
	if c.now == nil {
		c.now = time.Now
	}
	informers := []cache.SharedIndexInformer{cfg.Pods.Informer(), cfg.Services.Informer(), cfg.ConfigMaps.Informer(),
		cfg.Secrets.Informer(), cfg.Claims.Informer(), cfg.ReplicationControllers.Informer()}
	c.loop = kit.Loop{Name: "resourcequota", Queue: kit.NewQueue("resourcequota"), Sync: c.sync, Logger: cfg.Logger,
		Synced: []cache.InformerSynced{cfg.Quotas.Informer().HasSynced}}
	if _, err := cfg.Quotas.Informer().AddEventHandler(kit.Handlers(c.loop.Queue)); err != nil {
		return nil, fmt.Errorf("resource quota controller: %w", err)
	}
	changed := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if m, ok := obj.(metav1.Object); ok {
			c.enqueueNamespace(m.GetNamespace())
		}
	}
	gone := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if m, ok := obj.(metav1.Object); ok {
			c.deleted.add(m.GetUID(), c.now())
		}
		changed(obj)
	}
	for _, inf := range informers {
		c.loop.Synced = append(c.loop.Synced, inf.HasSynced)
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: changed, UpdateFunc: func(_, obj any) { changed(obj) }, DeleteFunc: gone,
		}); err != nil {
			return nil, fmt.Errorf("resource quota controller: %w", err)
		}
	}
	return c, nil
}

// Run runs workers until ctx is done, recomputing every quota each resync
// period.
func (c *Controller) Run(ctx context.Context, workers int) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(c.resync)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				qs, _ := c.quotas.List(labels.Everything())
				for _, q := range qs {
					c.loop.Queue.Add(q.Namespace + "/" + q.Name)
				}
			}
		}
	}()
	err := c.loop.Run(ctx, workers)
	<-done
	return err
}

func (c *Controller) enqueueNamespace(ns string) {
	qs, err := c.quotas.ResourceQuotas(ns).List(labels.Everything())
	if err != nil {
		return
	}
	for _, q := range qs {
		c.loop.Queue.Add(q.Namespace + "/" + q.Name)
	}
}
