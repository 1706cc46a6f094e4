package endpoints

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// serviceWatch queues Service keys when a Service changes or a pod it
// selects (before or after the change) does.
type serviceWatch struct {
	services corelisters.ServiceLister
	pods     corelisters.PodLister
	queue    workqueue.TypedRateLimitingInterface[string]
}

func newServiceWatch(name string, services coreinformers.ServiceInformer, pods coreinformers.PodInformer) (*serviceWatch, error) {
	w := &serviceWatch{services: services.Lister(), pods: pods.Lister(), queue: kit.NewQueue(name)}
	if _, err := services.Informer().AddEventHandler(kit.Handlers(w.queue)); err != nil {
		return nil, err
	}
	_, err := pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { w.podChanged(nil, obj) },
		UpdateFunc: func(old, obj any) {
			if o, n := old.(*corev1.Pod), obj.(*corev1.Pod); o.ResourceVersion != n.ResourceVersion {
				w.podChanged(o, n)
			}
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			w.podChanged(nil, obj)
		},
	})
	return w, err
}

// podChanged queues the Services selecting the pod's old or new labels.
func (w *serviceWatch) podChanged(old *corev1.Pod, obj any) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	svcs, err := w.services.Services(p.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, s := range svcs {
		if s.Spec.Selector == nil {
			continue
		}
		sel := labels.SelectorFromValidatedSet(s.Spec.Selector)
		if sel.Matches(labels.Set(p.Labels)) || old != nil && sel.Matches(labels.Set(old.Labels)) {
			w.queue.Add(s.Namespace + "/" + s.Name)
		}
	}
}

// selected lists the pods a Service selects.
func (w *serviceWatch) selected(svc *corev1.Service) ([]*corev1.Pod, error) {
	return w.pods.Pods(svc.Namespace).List(labels.SelectorFromValidatedSet(svc.Spec.Selector))
}

func synced(informers ...cache.SharedIndexInformer) []cache.InformerSynced {
	out := make([]cache.InformerSynced, len(informers))
	for i, inf := range informers {
		out[i] = inf.HasSynced
	}
	return out
}
