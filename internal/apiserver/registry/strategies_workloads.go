package registry

import "k8s.io/apimachinery/pkg/runtime/schema"

// workloadStrategies returns the strategies of the non-core groups (apps,
// batch, autoscaling, coordination, discovery, events, policy, scheduling,
// rbac).
func workloadStrategies() map[schema.GroupVersionKind]Strategy {
	return map[schema.GroupVersionKind]Strategy{}
}
