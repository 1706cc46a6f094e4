package registry

import (
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// NameRule returns the rule metadata.name must follow for objects of kind
// gvk. Most kinds use a DNS-1123 subdomain; the exceptions follow upstream:
// namespaces are DNS-1123 labels, services DNS-1035 labels (their names
// become DNS labels and environment variable prefixes), and RBAC objects
// any valid path segment (so "system:controller:x" is allowed).
func NameRule(gvk schema.GroupVersionKind) apimachineryvalidation.ValidateNameFunc {
	switch gvk.Group {
	case "":
		switch gvk.Kind {
		case "Namespace":
			return apimachineryvalidation.NameIsDNSLabel
		case "Service":
			return apimachineryvalidation.NameIsDNS1035Label
		}
	case "rbac.authorization.k8s.io":
		return path.ValidatePathSegmentName
	}
	return apimachineryvalidation.NameIsDNSSubdomain
}

// validateObjectMeta checks metadata on create: name (with nameFn), namespace
// presence matching the scope, labels, annotations, owner references and
// finalizers.
func validateObjectMeta(meta *metav1.ObjectMeta, namespaced bool, nameFn apimachineryvalidation.ValidateNameFunc, fldPath *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateObjectMeta(meta, namespaced, nameFn, fldPath)
}

// validateObjectMetaUpdate checks metadata on update: name, namespace, uid,
// creationTimestamp and generateName-derived fields may not change, labels
// and annotations must still be valid.
func validateObjectMetaUpdate(meta, old *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateObjectMetaUpdate(meta, old, fldPath)
}

// validateTemplateMeta checks the metadata of an embedded template (pod
// templates of workloads): only labels and annotations matter there.
func validateTemplateMeta(meta *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabels(meta.Labels, fldPath.Child("labels"))
	return append(errs, apimachineryvalidation.ValidateAnnotations(meta.Annotations, fldPath.Child("annotations"))...)
}

// validateLabelsField checks a label map used as a selector or label set.
func validateLabelsField(l map[string]string, fldPath *field.Path) field.ErrorList {
	return metav1validation.ValidateLabels(l, fldPath)
}
