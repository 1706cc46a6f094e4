package server

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/auth/rbac"
)

// reconcileRBAC creates the default ClusterRoles and ClusterRoleBindings
// and adds to existing ones what they miss, leaving alone those annotated
// rbac.authorization.kubernetes.io/autoupdate: "false", as upstream does
// at every start.
func reconcileRBAC(ctx context.Context, cs kubernetes.Interface) error {
	dnsRole, dnsBinding := nodeDNSEndpointsRBAC()
	roles := append(rbac.DefaultClusterRoles(), rbac.SkiffClusterRoles()...)
	roles = append(roles, aggregatedMetricsReader())
	roles = append(roles, dnsRole)
	kubeletRole, kubeletBinding := kubeletAPIAdminRBAC()
	roles = append(roles, kubeletRole)
	for _, want := range roles {
		if err := reconcileClusterRole(ctx, cs, want); err != nil {
			return err
		}
	}
	bindings := append(rbac.DefaultClusterRoleBindings(), rbac.SkiffClusterRoleBindings()...)
	bindings = append(bindings, dnsBinding, kubeletBinding)
	for _, want := range bindings {
		if err := reconcileClusterRoleBinding(ctx, cs, want); err != nil {
			return err
		}
	}
	return nil
}

func reconcileClusterRole(ctx context.Context, cs kubernetes.Interface, want *rbacv1.ClusterRole) error {
	api := cs.RbacV1().ClusterRoles()
	existing, err := api.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		existing = nil
	case err != nil:
		return fmt.Errorf("reading ClusterRole %s: %w", want.Name, err)
	}
	out, changed := rbac.ReconcileClusterRole(existing, want)
	if !changed {
		return nil
	}
	if existing == nil {
		_, err = api.Create(ctx, out, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil // another server made it
		}
	} else {
		_, err = api.Update(ctx, out, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("reconciling ClusterRole %s: %w", want.Name, err)
	}
	return nil
}

func reconcileClusterRoleBinding(ctx context.Context, cs kubernetes.Interface, want *rbacv1.ClusterRoleBinding) error {
	api := cs.RbacV1().ClusterRoleBindings()
	existing, err := api.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		existing = nil
	case err != nil:
		return fmt.Errorf("reading ClusterRoleBinding %s: %w", want.Name, err)
	}
	out, changed, recreate := rbac.ReconcileClusterRoleBinding(existing, want)
	switch {
	case !changed:
		return nil
	case existing == nil:
		_, err = api.Create(ctx, out, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
	case recreate:
		if err = api.Delete(ctx, out.Name, metav1.DeleteOptions{}); err == nil || apierrors.IsNotFound(err) {
			out.UID = ""
			_, err = api.Create(ctx, out, metav1.CreateOptions{})
		}
	default:
		_, err = api.Update(ctx, out, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("reconciling ClusterRoleBinding %s: %w", want.Name, err)
	}
	return nil
}

// aggregatedMetricsReader is the ClusterRole metrics-server installs:
// reading metrics.k8s.io pods and nodes, aggregated into view, edit and
// admin.
func aggregatedMetricsReader() *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{
			Name: "system:aggregated-metrics-reader",
			Labels: map[string]string{rbac.BootstrapLabel: rbac.BootstrapLabelValue,
				rbac.AggregateToView: "true", rbac.AggregateToEdit: "true", rbac.AggregateToAdmin: "true"},
			Annotations: map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"},
		},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"metrics.k8s.io"}, Resources: []string{"pods", "nodes"}, Verbs: []string{"get", "list", "watch"}}},
	}
}

// apiServerKubeletClientUser is the common name of the client certificate
// the API server presents to node agents (see ensureCredentials).
const apiServerKubeletClientUser = "skiff-apiserver-kubelet-client"

// kubeletAPIAdminRBAC is upstream's system:kubelet-api-admin ClusterRole
// (every verb on the node agent's API) and its binding to the API
// server's own agent client user: agents ask the API server with
// SubjectAccessReviews whether a caller may use their endpoint.
func kubeletAPIAdminRBAC() (*rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding) {
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Labels: map[string]string{rbac.BootstrapLabel: rbac.BootstrapLabelValue},
			Annotations: map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"}}
	}
	const role = "system:kubelet-api-admin"
	return &rbacv1.ClusterRole{
			ObjectMeta: meta(role),
			Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get", "list", "watch", "proxy"}},
				{APIGroups: []string{""}, Resources: []string{"nodes/proxy", "nodes/log", "nodes/stats", "nodes/metrics", "nodes/spec"}, Verbs: []string{"*"}},
			},
		}, &rbacv1.ClusterRoleBinding{
			ObjectMeta: meta("system:skiff-apiserver-kubelet-api-admin"),
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: apiServerKubeletClientUser}},
		}
}
