package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// Identities of Skiff's components, with upstream's names. Each component
// authenticates as its user (client certificate CN) and is bound to the
// ClusterRole of the same name.
const (
	// UserKubeScheduler is the scheduler's user name.
	UserKubeScheduler = "system:kube-scheduler"
	// UserKubeControllerManager is the controller manager's user name.
	UserKubeControllerManager = "system:kube-controller-manager"
	// UserKubeProxy is the service proxy's user name.
	UserKubeProxy = "system:kube-proxy"
	// NodeUserPrefix starts a node agent's user name: "system:node:<node>".
	NodeUserPrefix = "system:node:"
	// SchedulerLeaseName and ControllerManagerLeaseName are the kube-system
	// Leases their leader election may update (the only ones), with
	// upstream's names; SkiffSchedulerLeaseName is the one Skiff's
	// scheduler uses.
	SchedulerLeaseName         = "kube-scheduler"
	ControllerManagerLeaseName = "kube-controller-manager"
	SkiffSchedulerLeaseName    = "skiff-scheduler"
)

// systemClusterRoles are the discovery, self-review and component roles.
func systemClusterRoles() []*rbacv1.ClusterRole {
	return []*rbacv1.ClusterRole{
		clusterRole("system:discovery", nil, urls(verbs("get"),
			"/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
			"/readyz", "/version", "/version/")),
		clusterRole("system:public-info-viewer", nil, urls(verbs("get"),
			"/healthz", "/livez", "/readyz", "/version", "/version/")),
		clusterRole("system:basic-user", nil,
			grant(verbs("create"), authnGroup, "selfsubjectreviews"),
			grant(verbs("create"), authzGroup, "selfsubjectaccessreviews", "selfsubjectrulesreviews")),
		clusterRole("system:monitoring", nil,
			urls(verbs("get"), "/metrics", "/metrics/slis", "/livez", "/readyz", "/healthz", "/livez/*", "/readyz/*", "/healthz/*")),
		clusterRole("system:service-account-issuer-discovery", nil,
			urls(verbs("get"), "/.well-known/openid-configuration", "/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/")),
		clusterRole("system:auth-delegator", nil,
			grant(verbs("create"), authnGroup, "tokenreviews"),
			grant(verbs("create"), authzGroup, "subjectaccessreviews")),
		clusterRole("system:node-bootstrapper", nil,
			grant(verbs("create", "get", "list", "watch"), certificatesGroup, "certificatesigningrequests")),
		clusterRole("system:kube-scheduler", nil, schedulerRules()...),
		clusterRole("system:kube-controller-manager", nil, controllerManagerRules()...),
		clusterRole("system:node", nil, nodeRules()...),
		clusterRole("system:node-proxier", nil,
			grant(verbs("list", "watch"), coreGroup, "services", "endpoints"),
			grant(verbs("get", "list", "watch"), coreGroup, "nodes"),
			grant(verbs("list", "watch"), discoveryGroup, "endpointslices"),
			eventsRule()),
		clusterRole("system:kube-dns", nil,
			grant(verbs("list", "watch"), coreGroup, "endpoints", "services"),
			grant(verbs("list", "watch"), discoveryGroup, "endpointslices")),
	}
}

// schedulerRules are what a scheduler needs: read what it places pods
// against, bind and preempt pods, report status, and hold its Lease.
func schedulerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		eventsRule(),
		grant(verbs("create"), authnGroup, "tokenreviews"),
		grant(verbs("create"), authzGroup, "subjectaccessreviews"),
		grant(verbs("create"), coordinationGroup, "leases"),
		named(grant(verbs("get", "update"), coordinationGroup, "leases"), SchedulerLeaseName, SkiffSchedulerLeaseName),
		grant(verbsRead(), coreGroup, "nodes", "namespaces", "services", "replicationcontrollers",
			"persistentvolumeclaims", "persistentvolumes"),
		grant(verbs("get", "list", "watch", "delete"), coreGroup, "pods"),
		grant(verbs("create"), coreGroup, "pods/binding", "bindings"),
		grant(verbs("patch", "update"), coreGroup, "pods/status"),
		grantGroups(verbsRead(), []string{appsGroup, extensionsGroup}, "replicasets"),
		grant(verbsRead(), appsGroup, "statefulsets"),
		grant(verbsRead(), policyGroup, "poddisruptionbudgets"),
		grant(verbsRead(), storageGroup, "storageclasses", "csinodes", "csidrivers", "csistoragecapacities"),
		grant(verbsRead(), schedulingGroup, "priorityclasses"),
	}
}

// controllerManagerRules are the union of what the controllers need, since
// Skiff's controller manager runs them under one identity: read everything
// for informers; the garbage collector and namespace controller update and
// delete any object; create only the kinds controllers make; the
// aggregation controller "escalate"s ClusterRoles it fills. No "bind", no
// "impersonate", no other RBAC writes.
func controllerManagerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		eventsRule(),
		grantGroups(verbs("get", "list", "watch", "update", "patch", "delete", "deletecollection"), []string{"*"}, "*"),
		grant(verbs("create"), coreGroup, "pods", "pods/eviction", "endpoints", "serviceaccounts", "serviceaccounts/token",
			"secrets", "configmaps", "persistentvolumes", "persistentvolumeclaims"),
		grant(verbs("create"), appsGroup, "replicasets", "controllerrevisions"),
		grant(verbs("create"), batchGroup, "jobs"),
		grant(verbs("create"), discoveryGroup, "endpointslices"),
		grant(verbs("create"), coordinationGroup, "leases"),
		grant(verbs("create"), authnGroup, "tokenreviews"),
		grant(verbs("create"), authzGroup, "subjectaccessreviews"),
		named(grant(verbs("approve", "sign"), certificatesGroup, "signers"),
			"kubernetes.io/kube-apiserver-client-kubelet", "kubernetes.io/kubelet-serving", "kubernetes.io/kube-apiserver-client"),
		grant(verbs("escalate"), rbacv1.GroupName, "clusterroles"),
	}
}

// nodeRules are what a node agent needs; the Node authorizer and the
// NodeRestriction admission plugin narrow them to the agent's own node and
// its pods' objects.
func nodeRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		eventsRule(),
		grant(verbs("create"), authnGroup, "tokenreviews"),
		grant(verbs("create"), authzGroup, "subjectaccessreviews", "localsubjectaccessreviews"),
		grant(verbsRead(), coreGroup, "services"),
		grant(verbs("create", "get", "list", "watch", "update", "patch", "delete"), coreGroup, "nodes"),
		grant(verbs("update", "patch"), coreGroup, "nodes/status"),
		grant(verbs("get", "list", "watch", "create", "delete"), coreGroup, "pods"),
		grant(verbs("update", "patch"), coreGroup, "pods/status"),
		grant(verbs("create"), coreGroup, "pods/eviction"),
		grant(verbsRead(), coreGroup, "secrets", "configmaps"),
		grant(verbs("get"), coreGroup, "persistentvolumeclaims", "persistentvolumes", "endpoints"),
		grant(verbs("update", "patch"), coreGroup, "persistentvolumeclaims/status"),
		grant(verbs("create"), coreGroup, "serviceaccounts/token"),
		grant(verbs("create", "get", "list", "watch"), certificatesGroup, "certificatesigningrequests"),
		grant(verbs("get", "create", "update", "patch", "delete"), coordinationGroup, "leases"),
		grant(verbsRead(), storageGroup, "csidrivers", "volumeattachments"),
		grant(verbs("create", "delete", "get", "patch", "update"), storageGroup, "csinodes"),
		grant(verbsRead(), nodeGroup, "runtimeclasses"),
	}
}

// DefaultClusterRoleBindings returns the ClusterRoleBindings reconciled at
// server start. system:node is bound to no one, as upstream: the Node
// authorizer grants agents their rights (see NodesGroupBinding otherwise).
func DefaultClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	return []*rbacv1.ClusterRoleBinding{
		clusterBinding("cluster-admin", group(auth.GroupMasters)),
		clusterBinding("system:discovery", group(auth.GroupAuthenticated)),
		clusterBinding("system:basic-user", group(auth.GroupAuthenticated)),
		clusterBinding("system:public-info-viewer", group(auth.GroupAuthenticated), group(GroupUnauthenticated)),
		clusterBinding("system:monitoring", group(GroupMonitoring)),
		clusterBinding("system:service-account-issuer-discovery", group(GroupServiceAccounts)),
		clusterBinding("system:kube-scheduler", user(UserKubeScheduler)),
		clusterBinding("system:kube-controller-manager", user(UserKubeControllerManager)),
		clusterBinding("system:node"),
		clusterBinding("system:node-proxier", user(UserKubeProxy)),
		clusterBinding("system:kube-dns", rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "kube-dns", Namespace: "kube-system"}),
	}
}

// NodesGroupBinding binds system:node to the system:nodes group: every agent
// gets the node rules on every node's objects. Use it only while no Node
// authorizer runs; it is not one of the defaults.
func NodesGroupBinding() *rbacv1.ClusterRoleBinding {
	b := clusterBinding("system:nodes", group(GroupNodes))
	b.RoleRef.Name = "system:node"
	return b
}

// clusterBinding binds the ClusterRole of the same name to subjects.
func clusterBinding(name string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: defaultMeta(name),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   subjects,
	}
}

// group and user build binding subjects.
func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}
}
