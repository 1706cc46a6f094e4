package registry

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
