package apiserver

import (
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// These helpers reach the conventional Spec and Status fields of the
// k8s.io/api structs, which share no interface.

// structField returns the addressable named field of a pointer to struct,
// or an invalid Value.
func structField(obj runtime.Object, name string) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName(name)
}

// hasSpec reports whether objects of this type have a spec, and so a
// generation that counts spec changes.
func hasSpec(obj runtime.Object) bool { return structField(obj, "Spec").IsValid() }

// resetStatus zeroes obj.Status.
func resetStatus(obj runtime.Object) {
	if f := structField(obj, "Status"); f.IsValid() && f.CanSet() {
		f.Set(reflect.Zero(f.Type()))
	}
}

// copyField sets dst.<name> to a deep copy of src.<name>.
func copyField(dst, src runtime.Object, name string) {
	d, s := structField(dst, name), structField(src, name)
	if !d.IsValid() || !s.IsValid() || !d.CanSet() {
		return
	}
	// Round-trip through DeepCopyObject of src so dst shares nothing.
	cp := src.DeepCopyObject()
	d.Set(structField(cp, name))
}

// specChanged reports whether the spec of two objects differs (everything
// outside metadata and status counts as spec, like upstream's generation
// rule for types with a Spec field).
func specChanged(a, b runtime.Object) bool {
	sa, sb := structField(a, "Spec"), structField(b, "Spec")
	if !sa.IsValid() || !sb.IsValid() {
		return false
	}
	return !equality.Semantic.DeepEqual(sa.Interface(), sb.Interface())
}

// objectMeta returns the metadata of a typed object.
func objectMeta(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil
	}
	return m
}
