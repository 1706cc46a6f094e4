package kit

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// OwnerKey is the namespace/name key of the owner of kind gvk that
// controls obj, or "".
func OwnerKey(obj metav1.Object, gvk schema.GroupVersionKind) string {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != gvk.Kind || ref.APIVersion != gvk.GroupVersion().String() {
		return ""
	}
	return obj.GetNamespace() + "/" + ref.Name
}

// OwnedPodHandlers are the pod informer handlers of a controller of kind
// gvk: a pod controlled by such an owner queues it, its creation and
// deletion (graceful ones included) settling the owner's expectations;
// an orphan queues the owners matching returns, so they may adopt it.
func OwnedPodHandlers(gvk schema.GroupVersionKind, q workqueue.TypedInterface[string], exp *Expectations, matching func(*corev1.Pod) []string) cache.ResourceEventHandlerFuncs {
	orphan := func(pod *corev1.Pod) {
		for _, key := range matching(pod) {
			q.Add(key)
		}
	}
	deleted := func(pod *corev1.Pod) {
		if key := OwnerKey(pod, gvk); key != "" {
			exp.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
			q.Add(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			pod, ok := obj.(*corev1.Pod)
			if !ok {
				return
			}
			if key := OwnerKey(pod, gvk); key != "" {
				exp.CreationObserved(key)
				q.Add(key)
				return
			}
			orphan(pod)
		},
		UpdateFunc: func(old, cur any) {
			oldPod, ok1 := old.(*corev1.Pod)
			pod, ok2 := cur.(*corev1.Pod)
			if !ok1 || !ok2 || oldPod.ResourceVersion == pod.ResourceVersion {
				return
			}
			if pod.DeletionTimestamp != nil && oldPod.DeletionTimestamp == nil {
				// A graceful deletion: the pod may linger for its grace
				// period, but the deletion the owner expects has happened.
				deleted(pod)
				return
			}
			if key := OwnerKey(oldPod, gvk); key != "" && key != OwnerKey(pod, gvk) {
				q.Add(key)
			}
			if key := OwnerKey(pod, gvk); key != "" {
				q.Add(key)
				return
			}
			orphan(pod)
		},
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				deleted(pod)
			}
		},
	}
}

// SelectorMatches returns the keys of the owners whose label selector
// (empty selectors match nothing) selects pod.
func SelectorMatches[T metav1.Object](owners []T, selector func(T) *metav1.LabelSelector, pod *corev1.Pod) []string {
	var keys []string
	for _, o := range owners {
		sel, err := metav1.LabelSelectorAsSelector(selector(o))
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			keys = append(keys, o.GetNamespace()+"/"+o.GetName())
		}
	}
	return keys
}
