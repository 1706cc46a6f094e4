package resourcequota

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/controller/kit"
	"github.com/skiffkube/skiff/internal/quota"
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
		resync: cfg.Resync,
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
	for _, inf := range informers {
		c.loop.Synced = append(c.loop.Synced, inf.HasSynced)
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: changed, UpdateFunc: func(_, obj any) { changed(obj) }, DeleteFunc: changed,
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

func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	q, err := c.quotas.ResourceQuotas(ns).Get(name)
	if err != nil {
		return err
	}
	objs, err := c.objects(ns)
	if err != nil {
		return err
	}
	st := corev1.ResourceQuotaStatus{Hard: q.Spec.Hard.DeepCopy(), Used: quota.Used(q, objs)}
	if equality.Semantic.DeepEqual(st, q.Status) {
		return nil
	}
	upd := q.DeepCopy()
	upd.Status = st
	if _, err := c.client.CoreV1().ResourceQuotas(ns).UpdateStatus(ctx, upd, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating status of quota %s: %w", key, err)
	}
	return nil
}

func (c *Controller) objects(ns string) (quota.Objects, error) {
	all := labels.Everything()
	var o quota.Objects
	var err error
	if o.Pods, err = c.pods.Pods(ns).List(all); err != nil {
		return o, err
	}
	if o.Services, err = c.services.Services(ns).List(all); err != nil {
		return o, err
	}
	if o.Claims, err = c.claims.PersistentVolumeClaims(ns).List(all); err != nil {
		return o, err
	}
	cms, err := c.cms.ConfigMaps(ns).List(all)
	if err != nil {
		return o, err
	}
	secrets, err := c.secrets.Secrets(ns).List(all)
	if err != nil {
		return o, err
	}
	rcs, err := c.rcs.ReplicationControllers(ns).List(all)
	if err != nil {
		return o, err
	}
	quotas, err := c.quotas.ResourceQuotas(ns).List(all)
	if err != nil {
		return o, err
	}
	o.ConfigMaps, o.Secrets, o.ReplicationControllers, o.ResourceQuotas = len(cms), len(secrets), len(rcs), len(quotas)
	return o, nil
}
