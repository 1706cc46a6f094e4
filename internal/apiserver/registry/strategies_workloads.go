package registry

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// workloadStrategies returns the strategies of the non-core groups (apps,
// batch, autoscaling, coordination, discovery, events, policy, scheduling,
// rbac).
func workloadStrategies() map[schema.GroupVersionKind]Strategy {
	apps := appsv1.SchemeGroupVersion
	batch := batchv1.SchemeGroupVersion
	rbac := rbacv1.SchemeGroupVersion
	return map[schema.GroupVersionKind]Strategy{
		apps.WithKind("Deployment"):         deploymentStrategy(),
		apps.WithKind("ReplicaSet"):         replicaSetStrategy(),
		apps.WithKind("DaemonSet"):          daemonSetStrategy(),
		apps.WithKind("StatefulSet"):        statefulSetStrategy(),
		apps.WithKind("ControllerRevision"): controllerRevisionStrategy(),
		batch.WithKind("Job"):               jobStrategy(),
		batch.WithKind("CronJob"):           cronJobStrategy(),

		autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"): hpaStrategy(),
		autoscalingv1.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"): hpaV1Strategy(),

		coordinationv1.SchemeGroupVersion.WithKind("Lease"):         leaseStrategy(),
		eventsv1.SchemeGroupVersion.WithKind("Event"):               eventsV1Strategy(),
		discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"):    endpointSliceStrategy(),
		policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"): pdbStrategy(),
		schedulingv1.SchemeGroupVersion.WithKind("PriorityClass"):   priorityClassStrategy(),

		rbac.WithKind("Role"):               roleStrategy(),
		rbac.WithKind("ClusterRole"):        clusterRoleStrategy(),
		rbac.WithKind("RoleBinding"):        roleBindingStrategy(),
		rbac.WithKind("ClusterRoleBinding"): clusterRoleBindingStrategy(),
	}
}
