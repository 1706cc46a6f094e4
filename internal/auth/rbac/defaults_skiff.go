package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
)

// Skiff's own default roles: what joining nodes and agents need beyond
// upstream's defaults.
const (
	// GroupBootstrappers holds bootstrap token users (joining agents).
	GroupBootstrappers = "system:bootstrappers"
	// NodeCertificatePath is where joining nodes get their certificate.
	NodeCertificatePath = "/skiff/v1/node-certificate"
	// NodeCertificateRequesterRole may POST to NodeCertificatePath.
	NodeCertificateRequesterRole = "skiff:node-certificate-requester"
)

// SkiffClusterRoles are Skiff's default ClusterRoles besides upstream's.
func SkiffClusterRoles() []*rbacv1.ClusterRole {
	return []*rbacv1.ClusterRole{
		clusterRole(NodeCertificateRequesterRole, nil, urls(verbs("post"), NodeCertificatePath)),
	}
}

// SkiffClusterRoleBindings are Skiff's default ClusterRoleBindings: joining
// agents may request a node certificate (and, as upstream's kubeadm
// binds, use the CSR API); nodes may renew theirs; and, while no Node
// authorizer narrows them, every node gets the system:node rules and the
// rules of the service proxy and DNS it runs.
func SkiffClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	bind := func(name, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		b := clusterBinding(name, subjects...)
		b.RoleRef.Name = role
		return b
	}
	return []*rbacv1.ClusterRoleBinding{
		clusterBinding(NodeCertificateRequesterRole, group(GroupBootstrappers), group(GroupNodes)),
		bind("skiff:node-bootstrapper", "system:node-bootstrapper", group(GroupBootstrappers)),
		NodesGroupBinding(),
		bind("skiff:node-proxier", "system:node-proxier", group(GroupNodes)),
		bind("skiff:node-dns", "system:kube-dns", group(GroupNodes)),
	}
}
