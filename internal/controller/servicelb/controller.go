package servicelb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// Config is what the controller needs.
type Config struct {
	// Client writes Service status.
	Client kubernetes.Interface
	// Services and Nodes are shared informers.
	Services coreinformers.ServiceInformer
	Nodes    coreinformers.NodeInformer
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// Controller keeps LoadBalancer Services' ingress on the node addresses.
type Controller struct {
	client   kubernetes.Interface
	services corelisters.ServiceLister
	nodes    corelisters.NodeLister
	loop     kit.Loop
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Services == nil || cfg.Nodes == nil {
		return nil, errors.New("servicelb controller: client and informers are required")
	}
	c := &Controller{client: cfg.Client, services: cfg.Services.Lister(), nodes: cfg.Nodes.Lister()}
	c.loop = kit.Loop{
		Name:   "servicelb",
		Queue:  kit.NewQueue("servicelb"),
		Sync:   c.sync,
		Synced: []cache.InformerSynced{cfg.Services.Informer().HasSynced, cfg.Nodes.Informer().HasSynced},
		Logger: cfg.Logger,
	}
	if _, err := cfg.Services.Informer().AddEventHandler(kit.Handlers(c.loop.Queue)); err != nil {
		return nil, fmt.Errorf("servicelb controller: %w", err)
	}
	// A node coming, going or changing readiness changes every
	// LoadBalancer Service's addresses.
	all := func(any) { c.enqueueAll() }
	if _, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: all, DeleteFunc: all,
		UpdateFunc: func(old, cur any) {
			o, n := old.(*corev1.Node), cur.(*corev1.Node)
			if !slices.Equal(NodeAddresses([]*corev1.Node{o}), NodeAddresses([]*corev1.Node{n})) {
				c.enqueueAll()
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("servicelb controller: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

func (c *Controller) enqueueAll() {
	svcs, err := c.services.List(labels.Everything())
	if err != nil {
		return
	}
	for _, s := range svcs {
		if Handles(s) {
			c.loop.Queue.Add(s.Namespace + "/" + s.Name)
		}
	}
}

// sync sets the Service's ingress to the node addresses when it differs.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.services.Services(ns).Get(name)
	if err != nil {
		return err // NotFound: nothing to do
	}
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return err
	}
	want := Ingress(svc, nodes)
	if apiequality.Semantic.DeepEqual(svc.Status.LoadBalancer.Ingress, want) {
		return nil
	}
	updated := svc.DeepCopy()
	updated.Status.LoadBalancer.Ingress = want
	_, err = c.client.CoreV1().Services(ns).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	return err
}
