// Package serviceaccount makes sure every active namespace has a "default"
// ServiceAccount, recreating it when it is deleted.
package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// DefaultName is the ServiceAccount every namespace gets.
const DefaultName = "default"

// Config is what the controller needs.
type Config struct {
	// Client creates ServiceAccounts.
	Client kubernetes.Interface
	// Namespaces and ServiceAccounts are shared informers.
	Namespaces      coreinformers.NamespaceInformer
	ServiceAccounts coreinformers.ServiceAccountInformer
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// Controller creates missing default ServiceAccounts.
type Controller struct {
	// client creates the ServiceAccounts.
	client kubernetes.Interface
	// namespaces and accounts read the informers' caches.
	namespaces corelisters.NamespaceLister
	accounts   corelisters.ServiceAccountLister
	// loop runs the workers over namespace names.
	loop kit.Loop
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Namespaces == nil || cfg.ServiceAccounts == nil {
		return nil, errors.New("serviceaccount controller: client and informers are required")
	}
	c := &Controller{
		client:     cfg.Client,
		namespaces: cfg.Namespaces.Lister(),
		accounts:   cfg.ServiceAccounts.Lister(),
	}
	c.loop = kit.Loop{
		Name:   "serviceaccount",
		Queue:  kit.NewQueue("serviceaccount"),
		Sync:   c.sync,
		Synced: []cache.InformerSynced{cfg.Namespaces.Informer().HasSynced, cfg.ServiceAccounts.Informer().HasSynced},
		Logger: cfg.Logger,
	}
	nsAdd := kit.Enqueue(c.loop.Queue)
	if _, err := cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    nsAdd,
		UpdateFunc: func(_, obj any) { nsAdd(obj) },
	}); err != nil {
		return nil, fmt.Errorf("serviceaccount controller: %w", err)
	}
	if _, err := cfg.ServiceAccounts.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if sa, ok := obj.(*corev1.ServiceAccount); ok && sa.Name == DefaultName {
				c.loop.Queue.Add(sa.Namespace)
			}
		},
	}); err != nil {
		return nil, fmt.Errorf("serviceaccount controller: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

// sync creates the namespace's default ServiceAccount if it is missing.
func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.namespaces.Get(name)
	if err != nil {
		return err // NotFound: nothing to do
	}
	if ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		return nil
	}
	if _, err := c.accounts.ServiceAccounts(name).Get(DefaultName); err == nil {
		return nil
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: DefaultName, Namespace: name}}
	_, err = c.client.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		if apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		return fmt.Errorf("creating %s/%s: %w", name, DefaultName, err)
	}
	return nil
}
