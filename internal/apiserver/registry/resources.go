package registry

import (
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource describes one served resource in one group/version.
type Resource struct {
	// GroupVersionResource as it appears in URLs ("" group for core).
	schema.GroupVersionResource
	// Kind and ListKind of the served objects.
	Kind, ListKind string
	// Singular name ("pod").
	Singular string
	// Namespaced or cluster-scoped.
	Namespaced bool
	// ShortNames and Categories as upstream discovery lists them.
	ShortNames []string
	Categories []string
	// Subresources served besides the main resource: "status", "scale",
	// "binding", "eviction", "log", "exec", "attach", "portforward", "proxy",
	// "token", "ephemeralcontainers", "resize", "finalize".
	Subresources []string
	// StorageResource names the stored resource when this one is another
	// view of it (events.k8s.io events are stored as core events;
	// autoscaling/v1 HPAs as autoscaling/v2 ones). Zero when it is stored as
	// itself.
	StorageResource schema.GroupVersionResource
	// New and NewList make empty typed objects.
	New     func() runtime.Object
	NewList func() runtime.Object
	// Strategy holds the type's defaulting and validation.
	Strategy Strategy
	// CreateOnly marks a resource that is only POSTed and answered by the
	// server, never stored (access and token reviews); NewList is nil.
	CreateOnly bool
}

// GroupVersionKind of the resource's objects.
func (r Resource) GroupVersionKind() schema.GroupVersionKind {
	return r.GroupVersion().WithKind(r.Kind)
}

// HasSubresource reports whether the resource serves sub.
func (r Resource) HasSubresource(sub string) bool {
	for _, s := range r.Subresources {
		if s == sub {
			return true
		}
	}
	return false
}

// Storage is the resource whose stored objects back this one.
func (r Resource) Storage() schema.GroupVersionResource {
	if r.StorageResource.Resource != "" {
		return r.StorageResource
	}
	return r.GroupVersionResource
}

// Builtin returns every built-in resource Skiff serves, in discovery order.
func Builtin() []Resource {
	strategies := strategies()
	gvr := func(g, v, r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: g, Version: v, Resource: r}
	}
	res := []Resource{
		// core/v1
		{GroupVersionResource: gvr("", "v1", "namespaces"), Kind: "Namespace", ShortNames: []string{"ns"}, Subresources: []string{"status", "finalize"},
			New: func() runtime.Object { return &corev1.Namespace{} }, NewList: func() runtime.Object { return &corev1.NamespaceList{} }},
		{GroupVersionResource: gvr("", "v1", "pods"), Kind: "Pod", Namespaced: true, ShortNames: []string{"po"}, Categories: []string{"all"},
			Subresources: []string{"status", "binding", "eviction", "log", "exec", "attach", "portforward", "proxy", "ephemeralcontainers", "resize"},
			New:          func() runtime.Object { return &corev1.Pod{} }, NewList: func() runtime.Object { return &corev1.PodList{} }},
		{GroupVersionResource: gvr("", "v1", "nodes"), Kind: "Node", ShortNames: []string{"no"}, Subresources: []string{"status", "proxy"},
			New: func() runtime.Object { return &corev1.Node{} }, NewList: func() runtime.Object { return &corev1.NodeList{} }},
		{GroupVersionResource: gvr("", "v1", "services"), Kind: "Service", Namespaced: true, ShortNames: []string{"svc"}, Categories: []string{"all"}, Subresources: []string{"status", "proxy"},
			New: func() runtime.Object { return &corev1.Service{} }, NewList: func() runtime.Object { return &corev1.ServiceList{} }},
		{GroupVersionResource: gvr("", "v1", "endpoints"), Kind: "Endpoints", Singular: "endpoints", Namespaced: true, ShortNames: []string{"ep"},
			New: func() runtime.Object { return &corev1.Endpoints{} }, NewList: func() runtime.Object { return &corev1.EndpointsList{} }},
		{GroupVersionResource: gvr("", "v1", "configmaps"), Kind: "ConfigMap", Namespaced: true, ShortNames: []string{"cm"},
			New: func() runtime.Object { return &corev1.ConfigMap{} }, NewList: func() runtime.Object { return &corev1.ConfigMapList{} }},
		{GroupVersionResource: gvr("", "v1", "secrets"), Kind: "Secret", Namespaced: true,
			New: func() runtime.Object { return &corev1.Secret{} }, NewList: func() runtime.Object { return &corev1.SecretList{} }},
		{GroupVersionResource: gvr("", "v1", "serviceaccounts"), Kind: "ServiceAccount", Namespaced: true, ShortNames: []string{"sa"}, Subresources: []string{"token"},
			New: func() runtime.Object { return &corev1.ServiceAccount{} }, NewList: func() runtime.Object { return &corev1.ServiceAccountList{} }},
		{GroupVersionResource: gvr("", "v1", "events"), Kind: "Event", Namespaced: true, ShortNames: []string{"ev"},
			New: func() runtime.Object { return &corev1.Event{} }, NewList: func() runtime.Object { return &corev1.EventList{} }},
		{GroupVersionResource: gvr("", "v1", "limitranges"), Kind: "LimitRange", Namespaced: true, ShortNames: []string{"limits"},
			New: func() runtime.Object { return &corev1.LimitRange{} }, NewList: func() runtime.Object { return &corev1.LimitRangeList{} }},
		{GroupVersionResource: gvr("", "v1", "resourcequotas"), Kind: "ResourceQuota", Namespaced: true, ShortNames: []string{"quota"}, Subresources: []string{"status"},
			New: func() runtime.Object { return &corev1.ResourceQuota{} }, NewList: func() runtime.Object { return &corev1.ResourceQuotaList{} }},
		{GroupVersionResource: gvr("", "v1", "persistentvolumes"), Kind: "PersistentVolume", ShortNames: []string{"pv"}, Subresources: []string{"status"},
			New: func() runtime.Object { return &corev1.PersistentVolume{} }, NewList: func() runtime.Object { return &corev1.PersistentVolumeList{} }},
		{GroupVersionResource: gvr("", "v1", "persistentvolumeclaims"), Kind: "PersistentVolumeClaim", Namespaced: true, ShortNames: []string{"pvc"}, Subresources: []string{"status"},
			New: func() runtime.Object { return &corev1.PersistentVolumeClaim{} }, NewList: func() runtime.Object { return &corev1.PersistentVolumeClaimList{} }},
		{GroupVersionResource: gvr("", "v1", "replicationcontrollers"), Kind: "ReplicationController", Namespaced: true, ShortNames: []string{"rc"}, Categories: []string{"all"}, Subresources: []string{"status", "scale"},
			New: func() runtime.Object { return &corev1.ReplicationController{} }, NewList: func() runtime.Object { return &corev1.ReplicationControllerList{} }},
		{GroupVersionResource: gvr("", "v1", "podtemplates"), Kind: "PodTemplate", Namespaced: true,
			New: func() runtime.Object { return &corev1.PodTemplate{} }, NewList: func() runtime.Object { return &corev1.PodTemplateList{} }},

		// apps/v1
		{GroupVersionResource: gvr("apps", "v1", "deployments"), Kind: "Deployment", Namespaced: true, ShortNames: []string{"deploy"}, Categories: []string{"all"}, Subresources: []string{"status", "scale"},
			New: func() runtime.Object { return &appsv1.Deployment{} }, NewList: func() runtime.Object { return &appsv1.DeploymentList{} }},
		{GroupVersionResource: gvr("apps", "v1", "replicasets"), Kind: "ReplicaSet", Namespaced: true, ShortNames: []string{"rs"}, Categories: []string{"all"}, Subresources: []string{"status", "scale"},
			New: func() runtime.Object { return &appsv1.ReplicaSet{} }, NewList: func() runtime.Object { return &appsv1.ReplicaSetList{} }},
		{GroupVersionResource: gvr("apps", "v1", "daemonsets"), Kind: "DaemonSet", Namespaced: true, ShortNames: []string{"ds"}, Categories: []string{"all"}, Subresources: []string{"status"},
			New: func() runtime.Object { return &appsv1.DaemonSet{} }, NewList: func() runtime.Object { return &appsv1.DaemonSetList{} }},
		{GroupVersionResource: gvr("apps", "v1", "statefulsets"), Kind: "StatefulSet", Namespaced: true, ShortNames: []string{"sts"}, Categories: []string{"all"}, Subresources: []string{"status", "scale"},
			New: func() runtime.Object { return &appsv1.StatefulSet{} }, NewList: func() runtime.Object { return &appsv1.StatefulSetList{} }},
		{GroupVersionResource: gvr("apps", "v1", "controllerrevisions"), Kind: "ControllerRevision", Namespaced: true,
			New: func() runtime.Object { return &appsv1.ControllerRevision{} }, NewList: func() runtime.Object { return &appsv1.ControllerRevisionList{} }},

		// batch/v1
		{GroupVersionResource: gvr("batch", "v1", "jobs"), Kind: "Job", Namespaced: true, Categories: []string{"all"}, Subresources: []string{"status"},
			New: func() runtime.Object { return &batchv1.Job{} }, NewList: func() runtime.Object { return &batchv1.JobList{} }},
		{GroupVersionResource: gvr("batch", "v1", "cronjobs"), Kind: "CronJob", Namespaced: true, ShortNames: []string{"cj"}, Categories: []string{"all"}, Subresources: []string{"status"},
			New: func() runtime.Object { return &batchv1.CronJob{} }, NewList: func() runtime.Object { return &batchv1.CronJobList{} }},

		// autoscaling: v2 is stored, v1 is a converted view.
		{GroupVersionResource: gvr("autoscaling", "v2", "horizontalpodautoscalers"), Kind: "HorizontalPodAutoscaler", Namespaced: true, ShortNames: []string{"hpa"}, Categories: []string{"all"}, Subresources: []string{"status"},
			New: func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscaler{} }, NewList: func() runtime.Object { return &autoscalingv2.HorizontalPodAutoscalerList{} }},
		{GroupVersionResource: gvr("autoscaling", "v1", "horizontalpodautoscalers"), Kind: "HorizontalPodAutoscaler", Namespaced: true, ShortNames: []string{"hpa"}, Categories: []string{"all"}, Subresources: []string{"status"},
			StorageResource: gvr("autoscaling", "v2", "horizontalpodautoscalers"),
			New:             func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscaler{} }, NewList: func() runtime.Object { return &autoscalingv1.HorizontalPodAutoscalerList{} }},

		// coordination.k8s.io/v1
		{GroupVersionResource: gvr("coordination.k8s.io", "v1", "leases"), Kind: "Lease", Namespaced: true,
			New: func() runtime.Object { return &coordinationv1.Lease{} }, NewList: func() runtime.Object { return &coordinationv1.LeaseList{} }},

		// events.k8s.io/v1: another view of core events.
		{GroupVersionResource: gvr("events.k8s.io", "v1", "events"), Kind: "Event", Namespaced: true, ShortNames: []string{"ev"},
			StorageResource: gvr("", "v1", "events"),
			New:             func() runtime.Object { return &eventsv1.Event{} }, NewList: func() runtime.Object { return &eventsv1.EventList{} }},

		// discovery.k8s.io/v1
		{GroupVersionResource: gvr("discovery.k8s.io", "v1", "endpointslices"), Kind: "EndpointSlice", Namespaced: true,
			New: func() runtime.Object { return &discoveryv1.EndpointSlice{} }, NewList: func() runtime.Object { return &discoveryv1.EndpointSliceList{} }},

		// policy/v1
		{GroupVersionResource: gvr("policy", "v1", "poddisruptionbudgets"), Kind: "PodDisruptionBudget", Namespaced: true, ShortNames: []string{"pdb"}, Subresources: []string{"status"},
			New: func() runtime.Object { return &policyv1.PodDisruptionBudget{} }, NewList: func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} }},

		// scheduling.k8s.io/v1
		{GroupVersionResource: gvr("scheduling.k8s.io", "v1", "priorityclasses"), Kind: "PriorityClass", ShortNames: []string{"pc"},
			New: func() runtime.Object { return &schedulingv1.PriorityClass{} }, NewList: func() runtime.Object { return &schedulingv1.PriorityClassList{} }},

		// rbac.authorization.k8s.io/v1
		{GroupVersionResource: gvr("rbac.authorization.k8s.io", "v1", "roles"), Kind: "Role", Namespaced: true,
			New: func() runtime.Object { return &rbacv1.Role{} }, NewList: func() runtime.Object { return &rbacv1.RoleList{} }},
		{GroupVersionResource: gvr("rbac.authorization.k8s.io", "v1", "rolebindings"), Kind: "RoleBinding", Namespaced: true,
			New: func() runtime.Object { return &rbacv1.RoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.RoleBindingList{} }},
		{GroupVersionResource: gvr("rbac.authorization.k8s.io", "v1", "clusterroles"), Kind: "ClusterRole",
			New: func() runtime.Object { return &rbacv1.ClusterRole{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleList{} }},
		{GroupVersionResource: gvr("rbac.authorization.k8s.io", "v1", "clusterrolebindings"), Kind: "ClusterRoleBinding",
			New: func() runtime.Object { return &rbacv1.ClusterRoleBinding{} }, NewList: func() runtime.Object { return &rbacv1.ClusterRoleBindingList{} }},
	}
	res = append(res, StorageClassResource())
	res = append(res, admissionRegistrationResources()...)
	for i := range res {
		r := &res[i]
		r.ListKind = r.Kind + "List"
		if r.Singular == "" {
			r.Singular = strings.ToLower(r.Kind)
		}
		r.Strategy = noStrategy{}
		if s, ok := strategies[r.GroupVersionKind()]; ok {
			r.Strategy = s
		}
	}
	return res
}

// Reviews returns the create-only resources the server answers without
// storing anything: token and access reviews.
func Reviews() []Resource {
	gvr := func(g, r string) schema.GroupVersionResource {
		return schema.GroupVersionResource{Group: g, Version: "v1", Resource: r}
	}
	res := []Resource{
		{GroupVersionResource: gvr(authenticationv1.GroupName, "tokenreviews"), Kind: "TokenReview",
			New: func() runtime.Object { return &authenticationv1.TokenReview{} }},
		{GroupVersionResource: gvr(authenticationv1.GroupName, "selfsubjectreviews"), Kind: "SelfSubjectReview",
			New: func() runtime.Object { return &authenticationv1.SelfSubjectReview{} }},
		{GroupVersionResource: gvr(authorizationv1.GroupName, "localsubjectaccessreviews"), Kind: "LocalSubjectAccessReview", Namespaced: true,
			New: func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} }},
		{GroupVersionResource: gvr(authorizationv1.GroupName, "selfsubjectaccessreviews"), Kind: "SelfSubjectAccessReview",
			New: func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} }},
		{GroupVersionResource: gvr(authorizationv1.GroupName, "selfsubjectrulesreviews"), Kind: "SelfSubjectRulesReview",
			New: func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} }},
		{GroupVersionResource: gvr(authorizationv1.GroupName, "subjectaccessreviews"), Kind: "SubjectAccessReview",
			New: func() runtime.Object { return &authorizationv1.SubjectAccessReview{} }},
	}
	for i := range res {
		res[i].CreateOnly = true
		res[i].Singular = strings.ToLower(res[i].Kind)
		res[i].Strategy = noStrategy{}
	}
	return res
}

// strategies gathers every type's strategy, keyed by served kind.
func strategies() map[schema.GroupVersionKind]Strategy {
	all := map[schema.GroupVersionKind]Strategy{}
	all[StorageClassResource().GroupVersionKind()] = storageClassStrategy()
	for _, part := range []map[schema.GroupVersionKind]Strategy{coreStrategies(), workloadStrategies(), admissionRegistrationStrategies()} {
		for k, v := range part {
			all[k] = v
		}
	}
	return all
}
