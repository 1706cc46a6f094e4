package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// EndpointsConfig is what the Endpoints controller needs.
type EndpointsConfig struct {
	// Client writes Endpoints.
	Client kubernetes.Interface
	// Services, Pods and Endpoints are shared informers.
	Services  coreinformers.ServiceInformer
	Pods      coreinformers.PodInformer
	Endpoints coreinformers.EndpointsInformer
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// EndpointsController keeps each selector Service's Endpoints object.
type EndpointsController struct {
	// client writes Endpoints.
	client kubernetes.Interface
	// watch maps Service and pod changes to Service keys.
	watch *serviceWatch
	// endpoints reads the current Endpoints.
	endpoints corelisters.EndpointsLister
	// loop runs the workers.
	loop kit.Loop
}

// NewEndpoints builds the Endpoints controller.
func NewEndpoints(cfg EndpointsConfig) (*EndpointsController, error) {
	if cfg.Client == nil || cfg.Services == nil || cfg.Pods == nil || cfg.Endpoints == nil {
		return nil, errors.New("endpoints controller: client and informers are required")
	}
	w, err := newServiceWatch("endpoints", cfg.Services, cfg.Pods)
	if err != nil {
		return nil, fmt.Errorf("endpoints controller: %w", err)
	}
	c := &EndpointsController{client: cfg.Client, watch: w, endpoints: cfg.Endpoints.Lister()}
	// An Endpoints object changed by someone else is put back.
	if _, err := cfg.Endpoints.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) { kit.Enqueue(w.queue)(obj) },
		DeleteFunc: kit.Enqueue(w.queue),
	}); err != nil {
		return nil, fmt.Errorf("endpoints controller: %w", err)
	}
	c.loop = kit.Loop{
		Name: "endpoints", Queue: w.queue, Sync: c.sync, Logger: cfg.Logger,
		Synced: synced(cfg.Services.Informer(), cfg.Pods.Informer(), cfg.Endpoints.Informer()),
	}
	return c, nil
}

// Run runs workers until ctx is done.
func (c *EndpointsController) Run(ctx context.Context, workers int) error {
	return c.loop.Run(ctx, workers)
}

func (c *EndpointsController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	api := c.client.CoreV1().Endpoints(ns)
	svc, err := c.watch.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		if _, err := c.endpoints.Endpoints(ns).Get(name); err == nil {
			if err := api.Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("deleting endpoints %s: %w", key, err)
			}
		}
		return nil
	}
	if err != nil || svc.Spec.Selector == nil {
		return err // selectorless Services' Endpoints belong to the user
	}
	pods, err := c.watch.selected(svc)
	if err != nil {
		return err
	}
	subsets, truncated := DesiredSubsets(svc, Backends(svc, pods, false))
	labels := serviceLabels(svc)
	cur, err := c.endpoints.Endpoints(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if cur != nil && equality.Semantic.DeepEqual(cur.Subsets, subsets) && maps.Equal(cur.Labels, labels) &&
		hasKey(cur.Annotations, AnnotationTruncated) == truncated {
		return nil
	}
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if cur != nil {
		ep = cur.DeepCopy()
	}
	ep.Labels, ep.Subsets = labels, subsets
	delete(ep.Annotations, AnnotationTruncated)
	if truncated {
		if ep.Annotations == nil {
			ep.Annotations = map[string]string{}
		}
		ep.Annotations[AnnotationTruncated] = "truncated"
	}
	if cur == nil {
		_, err = api.Create(ctx, ep, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("endpoints %s appeared meanwhile: %w", key, err) // retry with a fresh cache
		}
		if apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
	} else {
		_, err = api.Update(ctx, ep, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("writing endpoints %s: %w", key, err)
	}
	return nil
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}
