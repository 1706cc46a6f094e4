package registry

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// coreStrategies returns the strategies of core/v1 types. ServiceAccount
// has nothing beyond metadata validation and keeps the no-op strategy.
func coreStrategies() map[schema.GroupVersionKind]Strategy {
	gvk := corev1.SchemeGroupVersion.WithKind
	return map[schema.GroupVersionKind]Strategy{
		gvk("Pod"):                   podStrategy(),
		gvk("Service"):               serviceStrategy(),
		gvk("Namespace"):             namespaceStrategy(),
		gvk("Node"):                  nodeStrategy(),
		gvk("ConfigMap"):             configMapStrategy(),
		gvk("Secret"):                secretStrategy(),
		gvk("Endpoints"):             endpointsStrategy(),
		gvk("Event"):                 eventStrategy(),
		gvk("LimitRange"):            limitRangeStrategy(),
		gvk("ResourceQuota"):         resourceQuotaStrategy(),
		gvk("PersistentVolume"):      persistentVolumeStrategy(),
		gvk("PersistentVolumeClaim"): persistentVolumeClaimStrategy(),
		gvk("ReplicationController"): replicationControllerStrategy(),
		gvk("PodTemplate"):           podTemplateStrategy(),
	}
}

// SubresourceUpdateFunc checks a write to a subresource, given the new
// object (with the subresource's changes applied) and the stored one.
type SubresourceUpdateFunc func(obj, old runtime.Object) field.ErrorList

// CoreSubresourceValidator returns the extra validation of a core/v1
// subresource write (pods/status, pods/ephemeralcontainers, pods/resize,
// services/status, namespaces/finalize), if there is one.
func CoreSubresourceValidator(gvk schema.GroupVersionKind, sub string) (SubresourceUpdateFunc, bool) {
	if gvk.Group != "" || gvk.Version != "v1" {
		return nil, false
	}
	pod := func(f func(pod, old *corev1.Pod) field.ErrorList) SubresourceUpdateFunc {
		return func(obj, old runtime.Object) field.ErrorList { return f(obj.(*corev1.Pod), old.(*corev1.Pod)) }
	}
	switch gvk.Kind + "/" + sub {
	case "Pod/status":
		return pod(validatePodStatusUpdate), true
	case "Pod/ephemeralcontainers":
		return pod(validateEphemeralContainersUpdate), true
	case "Pod/resize":
		return pod(validatePodResize), true
	case "Service/status":
		return func(obj, old runtime.Object) field.ErrorList {
			return validateServiceStatusUpdate(obj.(*corev1.Service), old.(*corev1.Service))
		}, true
	case "Namespace/finalize":
		return func(obj, old runtime.Object) field.ErrorList {
			return validateNamespaceFinalize(obj.(*corev1.Namespace), old.(*corev1.Namespace))
		}, true
	}
	return nil, false
}
