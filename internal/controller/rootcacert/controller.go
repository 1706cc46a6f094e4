// Package rootcacert publishes the cluster's CA bundle as the
// kube-root-ca.crt ConfigMap in every namespace, so pods can verify the
// API server's certificate.
package rootcacert

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

// Name is the ConfigMap's name; Key holds the PEM bundle.
const (
	Name = "kube-root-ca.crt"
	Key  = "ca.crt"
)

const descriptionAnnotation = "kubernetes.io/description"

const description = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
	"No other usage is guaranteed across distributions of Kubernetes clusters."

// Config is what the controller needs.
type Config struct {
	// Client writes ConfigMaps.
	Client kubernetes.Interface
	// CA is the PEM bundle to publish.
	CA []byte
	// Namespaces and ConfigMaps are shared informers.
	Namespaces coreinformers.NamespaceInformer
	ConfigMaps coreinformers.ConfigMapInformer
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// Controller keeps kube-root-ca.crt in every active namespace.
type Controller struct {
	// client writes the ConfigMaps.
	client kubernetes.Interface
	// ca is the bundle.
	ca string
	// namespaces and configMaps read the informers' caches.
	namespaces corelisters.NamespaceLister
	configMaps corelisters.ConfigMapLister
	// loop runs the workers over namespace names.
	loop kit.Loop
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || len(cfg.CA) == 0 || cfg.Namespaces == nil || cfg.ConfigMaps == nil {
		return nil, errors.New("root CA publisher: client, CA and informers are required")
	}
	c := &Controller{
		client:     cfg.Client,
		ca:         string(cfg.CA),
		namespaces: cfg.Namespaces.Lister(),
		configMaps: cfg.ConfigMaps.Lister(),
	}
	c.loop = kit.Loop{
		Name:   "root-ca-cert-publisher",
		Queue:  kit.NewQueue("root-ca-cert-publisher"),
		Sync:   c.sync,
		Synced: []cache.InformerSynced{cfg.Namespaces.Informer().HasSynced, cfg.ConfigMaps.Informer().HasSynced},
		Logger: cfg.Logger,
	}
	nsAdd := kit.Enqueue(c.loop.Queue)
	if _, err := cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    nsAdd,
		UpdateFunc: func(_, obj any) { nsAdd(obj) },
	}); err != nil {
		return nil, fmt.Errorf("root CA publisher: %w", err)
	}
	cmChanged := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == Name {
			c.loop.Queue.Add(cm.Namespace)
		}
	}
	if _, err := cfg.ConfigMaps.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { cmChanged(obj) },
		DeleteFunc: cmChanged,
	}); err != nil {
		return nil, fmt.Errorf("root CA publisher: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error { return c.loop.Run(ctx, workers) }

// sync creates or repairs the namespace's kube-root-ca.crt.
func (c *Controller) sync(ctx context.Context, ns string) error {
	n, err := c.namespaces.Get(ns)
	if err != nil {
		return err
	}
	if n.Status.Phase == corev1.NamespaceTerminating || n.DeletionTimestamp != nil {
		return nil
	}
	cms := c.client.CoreV1().ConfigMaps(ns)
	cur, err := c.configMaps.ConfigMaps(ns).Get(Name)
	switch {
	case apierrors.IsNotFound(err):
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: Name, Namespace: ns, Annotations: map[string]string{descriptionAnnotation: description}},
			Data:       map[string]string{Key: c.ca},
		}
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) || apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
	case err != nil:
		return err
	case len(cur.Data) == 1 && cur.Data[Key] == c.ca && cur.Annotations[descriptionAnnotation] == description:
		return nil
	default:
		cm := cur.DeepCopy()
		cm.Data = map[string]string{Key: c.ca}
		cm.BinaryData = nil
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations[descriptionAnnotation] = description
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("publishing %s/%s: %w", ns, Name, err)
	}
	return nil
}
