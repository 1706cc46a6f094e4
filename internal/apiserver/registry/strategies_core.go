package registry

import "k8s.io/apimachinery/pkg/runtime/schema"

// coreStrategies returns the strategies of core/v1 types.
func coreStrategies() map[schema.GroupVersionKind]Strategy {
	return map[schema.GroupVersionKind]Strategy{}
}
