package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// immortalNamespaces may not be deleted.
func immortalNamespace(name string) bool {
	return name == metav1.NamespaceDefault || name == metav1.NamespaceSystem || name == metav1.NamespacePublic
}

// admitCreate is the NamespaceLifecycle admission step: namespaced objects
// go only into namespaces that exist and are not terminating.
func (s *Server) admitCreate(ctx context.Context, rs *resourceStore, obj runtime.Object) error {
	if !rs.res.Namespaced {
		return s.admitPlugins(ctx, rs, obj)
	}
	nsName := objectMeta(obj).GetNamespace()
	nsStore := s.namespaces
	cached, err := nsStore.cache.Get(ctx, nsStore.key("", nsName), "0")
	var ns *corev1.Namespace
	if err == nil && cached != nil {
		ns = cached.(*corev1.Namespace)
	} else {
		// The cache may lag a namespace created a moment ago.
		fresh, _, err := nsStore.get(ctx, "", nsName)
		if err != nil {
			return err
		}
		ns = fresh.(*corev1.Namespace)
	}
	if ns.Status.Phase == corev1.NamespaceTerminating || ns.DeletionTimestamp != nil {
		err := apierrors.NewForbidden(rs.gr, objectMeta(obj).GetName(),
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", nsName))
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
			Type:    corev1.NamespaceTerminatingCause,
			Message: fmt.Sprintf("namespace %s is being terminated", nsName),
			Field:   "metadata.namespace",
		})
		return err
	}
	return s.admitPlugins(ctx, rs, obj)
}

// deleteNamespace marks a namespace Terminating; the namespace controller
// empties it and removes the "kubernetes" finalizer, and the last delete
// (or the finalize call) removes it.
func (s *Server) deleteNamespace(ctx context.Context, rs *resourceStore, name string, opts metav1.DeleteOptions) (deleteResult, error) {
	if immortalNamespace(name) {
		return deleteResult{}, apierrors.NewForbidden(rs.gr, name, fmt.Errorf("this namespace may not be deleted"))
	}
	obj, _, err := rs.get(ctx, "", name)
	if err != nil {
		return deleteResult{}, err
	}
	ns := obj.(*corev1.Namespace)
	if len(ns.Spec.Finalizers) == 0 && len(ns.Finalizers) == 0 {
		return rs.delete(ctx, "", name, opts)
	}
	if ns.DeletionTimestamp != nil {
		return deleteResult{obj: ns}, nil
	}
	out, _, err := rs.update(ctx, "", name, func(old runtime.Object) (runtime.Object, error) {
		n := old.(*corev1.Namespace)
		now := rs.now()
		n.DeletionTimestamp = &now
		zero := int64(0)
		n.DeletionGracePeriodSeconds = &zero
		n.Status.Phase = corev1.NamespaceTerminating
		n.ResourceVersion = ""
		return n, nil
	}, nil, writeOptions{DryRun: len(opts.DryRun) > 0, Internal: true})
	if err != nil {
		return deleteResult{}, err
	}
	return deleteResult{obj: out}, nil
}

func requiredName() *field.Error {
	return field.Required(field.NewPath("metadata", "name"), "name or generateName is required")
}

func requiredFieldManager() *field.Error {
	return field.Required(field.NewPath("fieldManager"), "is required for apply requests")
}

// removable reports whether a deleted object has nothing left holding it:
// no finalizers, and for namespaces no spec finalizers either.
func removable(obj runtime.Object) bool {
	if len(objectMeta(obj).GetFinalizers()) > 0 {
		return false
	}
	if ns, ok := obj.(*corev1.Namespace); ok && len(ns.Spec.Finalizers) > 0 {
		return false
	}
	return true
}
