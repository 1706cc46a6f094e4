package registry

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateObjectMeta checks the metadata of a new object of kind gvk: name
// rules of that kind, namespace presence, labels, annotations, finalizers
// and owner references.
func ValidateObjectMeta(obj runtime.Object, gvk schema.GroupVersionKind, namespaced bool) field.ErrorList {
	m, ok := typedMeta(obj)
	if !ok {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), errNoObjectMeta)}
	}
	return validateObjectMeta(m, namespaced, NameRule(gvk), field.NewPath("metadata"))
}

// ValidateObjectMetaUpdate checks what an update may change in metadata.
func ValidateObjectMetaUpdate(obj, old runtime.Object) field.ErrorList {
	m, ok := typedMeta(obj)
	om, ok2 := typedMeta(old)
	if !ok || !ok2 {
		return field.ErrorList{field.InternalError(field.NewPath("metadata"), errNoObjectMeta)}
	}
	return validateObjectMetaUpdate(m, om, field.NewPath("metadata"))
}

type metaError string

func (e metaError) Error() string { return string(e) }

const errNoObjectMeta = metaError("object has no ObjectMeta")

func typedMeta(obj runtime.Object) (*metav1.ObjectMeta, bool) {
	a, ok := obj.(metav1.ObjectMetaAccessor)
	if !ok {
		return nil, false
	}
	m, ok := a.GetObjectMeta().(*metav1.ObjectMeta)
	return m, ok
}
