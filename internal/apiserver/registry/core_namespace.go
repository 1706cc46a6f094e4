package registry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func namespaceStrategy() Strategy {
	return Typed[*corev1.Namespace]{
		DefaultFunc: defaultNamespace,
		PrepareForCreateFunc: func(ns *corev1.Namespace) {
			ns.Status = corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
			for _, f := range ns.Spec.Finalizers {
				if f == corev1.FinalizerKubernetes {
					return
				}
			}
			ns.Spec.Finalizers = append(ns.Spec.Finalizers, corev1.FinalizerKubernetes)
		},
		PrepareForUpdateFunc: func(ns, old *corev1.Namespace) {
			// Finalizers change only through the finalize subresource.
			ns.Spec.Finalizers = old.Spec.Finalizers
		},
		ValidateFunc: func(ns *corev1.Namespace) field.ErrorList {
			return validateNamespaceFinalizers(ns.Spec.Finalizers, field.NewPath("spec", "finalizers"))
		},
		ValidateUpdateFunc: func(ns, old *corev1.Namespace) field.ErrorList {
			return validateNamespaceFinalizers(ns.Spec.Finalizers, field.NewPath("spec", "finalizers"))
		},
	}
}

// defaultNamespace sets the Active phase and forces the
// kubernetes.io/metadata.name label to the namespace's name.
func defaultNamespace(ns *corev1.Namespace) {
	if ns.Status.Phase == "" {
		ns.Status.Phase = corev1.NamespaceActive
	}
	if ns.Name == "" {
		return
	}
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[corev1.LabelMetadataName] = ns.Name
}

// validateNamespaceFinalizers accepts "kubernetes" and fully qualified
// names.
func validateNamespaceFinalizers(finalizers []corev1.FinalizerName, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, f := range finalizers {
		p := fldPath.Index(i)
		name := string(f)
		for _, msg := range content.IsLabelKey(name) {
			errs = append(errs, field.Invalid(p, name, msg))
		}
		if !strings.Contains(name, "/") && f != corev1.FinalizerKubernetes {
			errs = append(errs, field.Invalid(p, name, "name is neither a standard finalizer name nor is it fully qualified"))
		}
	}
	return errs
}

// validateNamespaceFinalize checks a write to namespaces/finalize: only the
// finalizer list may change, and it must stay valid.
func validateNamespaceFinalize(ns, old *corev1.Namespace) field.ErrorList {
	errs := validateNamespaceFinalizers(ns.Spec.Finalizers, field.NewPath("spec", "finalizers"))
	return append(errs, apimachineryvalidation.ValidateObjectMetaUpdate(&ns.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))...)
}
