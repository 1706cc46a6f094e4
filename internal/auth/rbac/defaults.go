package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations of the default RBAC objects, as upstream.
const (
	// BootstrapLabel marks default RBAC objects: kubernetes.io/bootstrapping.
	BootstrapLabel = "kubernetes.io/bootstrapping"
	// BootstrapLabelValue is its value on every default object.
	BootstrapLabelValue = "rbac-defaults"
	// AggregateToAdmin, AggregateToEdit and AggregateToView are the labels
	// (value "true") that fold a ClusterRole into admin, edit or view.
	AggregateToAdmin = "rbac.authorization.k8s.io/aggregate-to-admin"
	AggregateToEdit  = "rbac.authorization.k8s.io/aggregate-to-edit"
	AggregateToView  = "rbac.authorization.k8s.io/aggregate-to-view"
	// GroupNodes is the group of node (agent) identities.
	GroupNodes = "system:nodes"
	// GroupMonitoring may read the health and metrics endpoints.
	GroupMonitoring = "system:monitoring"
)

// API groups the default rules name.
const (
	coreGroup          = ""
	appsGroup          = "apps"
	autoscalingGroup   = "autoscaling"
	batchGroup         = "batch"
	extensionsGroup    = "extensions"
	policyGroup        = "policy"
	networkingGroup    = "networking.k8s.io"
	coordinationGroup  = "coordination.k8s.io"
	discoveryGroup     = "discovery.k8s.io"
	storageGroup       = "storage.k8s.io"
	certificatesGroup  = "certificates.k8s.io"
	authnGroup         = "authentication.k8s.io"
	authzGroup         = "authorization.k8s.io"
	eventsGroup        = "events.k8s.io"
	nodeGroup          = "node.k8s.io"
	schedulingGroup    = "scheduling.k8s.io"
	admissionRegGroup  = "admissionregistration.k8s.io"
	apiextensionsGroup = "apiextensions.k8s.io"
)

// verbsRead, verbsWrite and verbsReadWrite are the verb sets of the
// default rules.
func verbsRead() []string { return []string{"get", "list", "watch"} }
func verbsWrite() []string {
	return []string{"create", "update", "patch", "delete", "deletecollection"}
}
func verbsReadWrite() []string {
	return []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
}

// grant builds a resource rule: verbs vs on resources of one API group.
func grant(vs []string, group string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: vs, APIGroups: []string{group}, Resources: resources}
}

// grantGroups is grant over several API groups.
func grantGroups(vs []string, groups []string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: vs, APIGroups: groups, Resources: resources}
}

// verbs lists verbs.
func verbs(vs ...string) []string { return vs }

// named limits a rule to resource names.
func named(rule rbacv1.PolicyRule, names ...string) rbacv1.PolicyRule {
	rule.ResourceNames = names
	return rule
}

// urls builds a non-resource rule.
func urls(vs []string, paths ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: vs, NonResourceURLs: paths}
}

// eventsRule lets a component record events in both event APIs.
func eventsRule() rbacv1.PolicyRule {
	return grantGroups(verbs("create", "update", "patch"), []string{coreGroup, eventsGroup}, "events")
}

// defaultMeta is the metadata of a default object: the bootstrapping label,
// the autoupdate annotation, and extra labels.
func defaultMeta(name string, extraLabels ...string) metav1.ObjectMeta {
	labels := map[string]string{BootstrapLabel: BootstrapLabelValue}
	for _, l := range extraLabels {
		labels[l] = "true"
	}
	return metav1.ObjectMeta{
		Name:        name,
		Labels:      labels,
		Annotations: map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"},
	}
}

// clusterRole builds a default ClusterRole.
func clusterRole(name string, labels []string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: defaultMeta(name, labels...), Rules: rules}
}

// aggregatedRole builds a default ClusterRole whose rules are gathered from
// ClusterRoles labelled selectLabel=true.
func aggregatedRole(name, selectLabel string, labels ...string) *rbacv1.ClusterRole {
	cr := clusterRole(name, labels)
	cr.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
		{MatchLabels: map[string]string{selectLabel: "true"}},
	}}
	return cr
}

// DefaultClusterRoles returns the ClusterRoles reconciled at server start:
// the user-facing roles (cluster-admin, admin, edit, view and the
// system:aggregate-to-* roles feeding them), discovery and self-review
// roles, and the roles of Skiff's components. admin, edit and view carry
// aggregationRules and no rules: the aggregation controller fills them.
func DefaultClusterRoles() []*rbacv1.ClusterRole {
	roles := []*rbacv1.ClusterRole{
		clusterRole("cluster-admin", nil, FullAuthority()...),
		aggregatedRole("admin", AggregateToAdmin),
		aggregatedRole("edit", AggregateToEdit, AggregateToAdmin),
		aggregatedRole("view", AggregateToView, AggregateToEdit),
		clusterRole("system:aggregate-to-admin", []string{AggregateToAdmin}, aggregateToAdminRules()...),
		clusterRole("system:aggregate-to-edit", []string{AggregateToEdit}, aggregateToEditRules()...),
		clusterRole("system:aggregate-to-view", []string{AggregateToView}, aggregateToViewRules()...),
	}
	return append(roles, systemClusterRoles()...)
}

// aggregateToAdminRules are what admin adds to edit: managing RBAC within
// the namespace and asking access reviews there.
func aggregateToAdminRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		grant(verbs("create"), authzGroup, "localsubjectaccessreviews"),
		grant(verbsReadWrite(), rbacv1.GroupName, "roles", "rolebindings"),
	}
}

// aggregateToEditRules are what edit adds to view: writing workloads and
// their configuration, reading secrets, exec/attach/port-forward. No RBAC
// writes, no endpoints writes (as upstream since CVE-2021-25740).
func aggregateToEditRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		grant(verbsRead(), coreGroup, "pods/attach", "pods/proxy", "pods/exec", "pods/portforward", "secrets", "services/proxy"),
		grant(verbs("impersonate"), coreGroup, "serviceaccounts"),
		grant(verbsWrite(), coreGroup, "pods", "pods/attach", "pods/proxy", "pods/exec", "pods/portforward"),
		grant(verbs("create"), coreGroup, "pods/eviction"),
		grant(verbsWrite(), coreGroup, "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/proxy", "persistentvolumeclaims", "configmaps", "secrets", "events"),
		grant(verbs("create"), coreGroup, "serviceaccounts/token"),
		grant(verbsWrite(), appsGroup, "statefulsets", "statefulsets/scale", "daemonsets",
			"deployments", "deployments/scale", "deployments/rollback", "replicasets", "replicasets/scale"),
		grant(verbsWrite(), autoscalingGroup, "horizontalpodautoscalers"),
		grant(verbsWrite(), batchGroup, "jobs", "cronjobs"),
		grant(verbsWrite(), extensionsGroup, "daemonsets", "deployments", "deployments/scale", "deployments/rollback",
			"ingresses", "replicasets", "replicasets/scale", "replicationcontrollers/scale", "networkpolicies"),
		grant(verbsWrite(), policyGroup, "poddisruptionbudgets"),
		grant(verbsWrite(), networkingGroup, "networkpolicies", "ingresses"),
		grant(verbsReadWrite(), coordinationGroup, "leases"),
	}
}

// aggregateToViewRules are view's: reading most namespaced objects, but not
// secrets nor anything that escalates (exec, proxy, RBAC).
func aggregateToViewRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		grant(verbsRead(), coreGroup, "pods", "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts",
			"services", "services/status", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "configmaps"),
		grant(verbsRead(), coreGroup, "limitranges", "resourcequotas", "bindings", "events", "pods/status",
			"resourcequotas/status", "namespaces/status", "replicationcontrollers/status", "pods/log"),
		// Reading namespaces within a namespace means reading that one.
		grant(verbsRead(), coreGroup, "namespaces"),
		grant(verbsRead(), discoveryGroup, "endpointslices"),
		grant(verbsRead(), appsGroup, "controllerrevisions", "statefulsets", "statefulsets/scale", "statefulsets/status",
			"daemonsets", "daemonsets/status", "deployments", "deployments/scale", "deployments/status",
			"replicasets", "replicasets/scale", "replicasets/status"),
		grant(verbsRead(), autoscalingGroup, "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		grant(verbsRead(), batchGroup, "jobs", "cronjobs", "cronjobs/status", "jobs/status"),
		grant(verbsRead(), extensionsGroup, "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
			"deployments/status", "ingresses", "ingresses/status", "replicasets", "replicasets/scale",
			"replicasets/status", "replicationcontrollers/scale", "networkpolicies"),
		grant(verbsRead(), policyGroup, "poddisruptionbudgets", "poddisruptionbudgets/status"),
		grant(verbsRead(), networkingGroup, "networkpolicies", "ingresses", "ingresses/status"),
	}
}
