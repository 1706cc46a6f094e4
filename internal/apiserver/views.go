package apiserver

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
)

// viewConversion serves one version of a resource that is stored as
// another (autoscaling/v1 HPAs stored as v2, events.k8s.io events stored
// as core events): objects convert on their way to and from the store.
type viewConversion struct {
	storageGVK  schema.GroupVersionKind
	newStorage  func() runtime.Object
	toStorage   func(runtime.Object) runtime.Object
	fromStorage func(runtime.Object) runtime.Object
}

// views lists the conversions by served kind.
func views() map[schema.GroupVersionKind]viewConversion {
	return map[schema.GroupVersionKind]viewConversion{
		autoscalingv1.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"): {
			storageGVK: autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"),
			newStorage: func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} },
			toStorage: func(o runtime.Object) runtime.Object {
				return registry.HPAV1ToV2(o.(*autoscalingv1.HorizontalPodAutoscaler))
			},
			fromStorage: func(o runtime.Object) runtime.Object {
				return registry.HPAV2ToV1(o.(*autoscalingv2.HorizontalPodAutoscaler))
			},
		},
		eventsv1.SchemeGroupVersion.WithKind("Event"): {
			storageGVK: corev1.SchemeGroupVersion.WithKind("Event"),
			newStorage: func() runtime.Object { return &corev1.Event{} },
			toStorage:  func(o runtime.Object) runtime.Object { return registry.EventsV1ToCore(o.(*eventsv1.Event)) },
			fromStorage: func(o runtime.Object) runtime.Object {
				return registry.CoreToEventsV1(o.(*corev1.Event))
			},
		},
	}
}
