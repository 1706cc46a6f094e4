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
	roles := append(rbac.DefaultClusterRoles(), rbac.SkiffClusterRoles()...)
	for _, want := range roles {
		if err := reconcileClusterRole(ctx, cs, want); err != nil {
			return err
		}
	}
	bindings := append(rbac.DefaultClusterRoleBindings(), rbac.SkiffClusterRoleBindings()...)
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
