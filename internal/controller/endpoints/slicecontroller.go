package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// sliceRecheck is how soon a Service whose last writes are not yet seen
// in the informer is looked at again (the events usually come first).
const sliceRecheck = time.Second

// SlicesConfig is what the EndpointSlice controller needs.
type SlicesConfig struct {
	// Client writes EndpointSlices.
	Client kubernetes.Interface
	// Services, Pods, Nodes and EndpointSlices are shared informers.
	Services       coreinformers.ServiceInformer
	Pods           coreinformers.PodInformer
	Nodes          coreinformers.NodeInformer
	EndpointSlices discoveryinformers.EndpointSliceInformer
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// SlicesController keeps each selector Service's EndpointSlices.
type SlicesController struct {
	// watch maps Service and pod changes to Service keys.
	watch *serviceWatch
	// nodes give endpoints their zone.
	nodes corelisters.NodeLister
	// slices reads the current EndpointSlices.
	slices discoverylisters.EndpointSliceLister
	// writer writes the difference.
	writer sliceWriter
	// loop runs the workers.
	loop kit.Loop
}

// NewSlices builds the EndpointSlice controller.
func NewSlices(cfg SlicesConfig) (*SlicesController, error) {
	if cfg.Client == nil || cfg.Services == nil || cfg.Pods == nil || cfg.Nodes == nil || cfg.EndpointSlices == nil {
		return nil, errors.New("endpointslice controller: client and informers are required")
	}
	w, err := newServiceWatch("endpointslice", cfg.Services, cfg.Pods)
	if err != nil {
		return nil, fmt.Errorf("endpointslice controller: %w", err)
	}
	c := &SlicesController{
		watch:  w,
		nodes:  cfg.Nodes.Lister(),
		slices: cfg.EndpointSlices.Lister(),
		writer: sliceWriter{client: cfg.Client, managedBy: ManagedBy, expectations: kit.NewExpectations(nil)},
	}
	if _, err := cfg.EndpointSlices.Informer().AddEventHandler(sliceHandlers(ManagedBy, w.queue, c.writer.expectations)); err != nil {
		return nil, fmt.Errorf("endpointslice controller: %w", err)
	}
	c.loop = kit.Loop{
		Name: "endpointslice", Queue: w.queue, Sync: c.sync, Logger: cfg.Logger,
		Synced: synced(cfg.Services.Informer(), cfg.Pods.Informer(), cfg.Nodes.Informer(), cfg.EndpointSlices.Informer()),
	}
	return c, nil
}

// Run runs workers until ctx is done.
func (c *SlicesController) Run(ctx context.Context, workers int) error {
	return c.loop.Run(ctx, workers)
}

func (c *SlicesController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	if !c.writer.expectations.Satisfied(key) {
		return kit.RequeueAfter(sliceRecheck)
	}
	existing, err := managedSlices(c.slices, ns, name, ManagedBy)
	if err != nil {
		return err
	}
	svc, err := c.watch.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.writer.expectations.Forget(key)
		return nil // the garbage collector deletes the owned slices
	}
	if err != nil {
		return err
	}
	if svc.Spec.Selector == nil {
		return c.writer.deleteAll(ctx, key, existing)
	}
	pods, err := c.watch.selected(svc)
	if err != nil {
		return err
	}
	desired := DesiredSlices(svc, Backends(svc, pods, true), c.zoneOf)
	return c.writer.reconcile(ctx, svc, existing, desired)
}

func (c *SlicesController) zoneOf(node string) string {
	n, err := c.nodes.Get(node)
	if err != nil {
		return ""
	}
	return n.Labels[corev1.LabelTopologyZone]
}

// managedSlices lists a Service's slices written by managedBy.
func managedSlices(l discoverylisters.EndpointSliceLister, ns, svc, managedBy string) ([]*discoveryv1.EndpointSlice, error) {
	sel := labels.SelectorFromValidatedSet(labels.Set{discoveryv1.LabelServiceName: svc, discoveryv1.LabelManagedBy: managedBy})
	return l.EndpointSlices(ns).List(sel)
}

// sliceHandlers queue a slice's Service and settle expectations when
// slices written by managedBy come and go.
func sliceHandlers(managedBy string, q workqueue.TypedInterface[string], exp *kit.Expectations) cache.ResourceEventHandlerFuncs {
	owner := func(obj any) (*discoveryv1.EndpointSlice, string, bool) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		s, ok := obj.(*discoveryv1.EndpointSlice)
		if !ok || s.Labels[discoveryv1.LabelManagedBy] != managedBy || s.Labels[discoveryv1.LabelServiceName] == "" {
			return nil, "", false
		}
		return s, s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName], true
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if _, key, ok := owner(obj); ok {
				exp.CreationObserved(key)
				q.Add(key)
			}
		},
		UpdateFunc: func(_, obj any) {
			if _, key, ok := owner(obj); ok {
				q.Add(key)
			}
		},
		DeleteFunc: func(obj any) {
			if s, key, ok := owner(obj); ok {
				exp.DeletionObserved(key, s.Namespace+"/"+s.Name)
				q.Add(key)
			}
		},
	}
}
