package registry

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Strategy is the per-type behaviour the generic REST handler calls. The
// handler itself takes care of what is common to every type (uid,
// creationTimestamp, resourceVersion, generation, keeping status on main
// resource writes and spec on status writes, ObjectMeta validation); a
// Strategy adds only what is particular to its type.
type Strategy interface {
	// Default fills unset fields the way upstream defaulting does. It runs on
	// create, update and patch, before validation.
	Default(obj runtime.Object)
	// PrepareForCreate clears or sets fields the user may not choose on
	// create (beyond status, which the handler already resets).
	PrepareForCreate(obj runtime.Object)
	// PrepareForUpdate does the same on update, given the stored object.
	PrepareForUpdate(obj, old runtime.Object)
	// Validate checks a new object.
	Validate(obj runtime.Object) field.ErrorList
	// ValidateUpdate checks an update (including immutable fields).
	ValidateUpdate(obj, old runtime.Object) field.ErrorList
}

// Typed adapts functions over one concrete type to a Strategy. Nil
// functions do nothing.
type Typed[T runtime.Object] struct {
	DefaultFunc          func(obj T)
	PrepareForCreateFunc func(obj T)
	PrepareForUpdateFunc func(obj, old T)
	ValidateFunc         func(obj T) field.ErrorList
	ValidateUpdateFunc   func(obj, old T) field.ErrorList
}

var _ Strategy = Typed[runtime.Object]{}

func (s Typed[T]) Default(obj runtime.Object) {
	if s.DefaultFunc != nil {
		s.DefaultFunc(obj.(T))
	}
}

func (s Typed[T]) PrepareForCreate(obj runtime.Object) {
	if s.PrepareForCreateFunc != nil {
		s.PrepareForCreateFunc(obj.(T))
	}
}

func (s Typed[T]) PrepareForUpdate(obj, old runtime.Object) {
	if s.PrepareForUpdateFunc != nil {
		s.PrepareForUpdateFunc(obj.(T), old.(T))
	}
}

func (s Typed[T]) Validate(obj runtime.Object) field.ErrorList {
	if s.ValidateFunc == nil {
		return nil
	}
	return s.ValidateFunc(obj.(T))
}

func (s Typed[T]) ValidateUpdate(obj, old runtime.Object) field.ErrorList {
	if s.ValidateUpdateFunc == nil {
		return nil
	}
	return s.ValidateUpdateFunc(obj.(T), old.(T))
}

// noStrategy is used for types with nothing particular to do.
type noStrategy struct{}

func (noStrategy) Default(runtime.Object)                             {}
func (noStrategy) PrepareForCreate(runtime.Object)                    {}
func (noStrategy) PrepareForUpdate(_, _ runtime.Object)               {}
func (noStrategy) Validate(runtime.Object) field.ErrorList            { return nil }
func (noStrategy) ValidateUpdate(_, _ runtime.Object) field.ErrorList { return nil }
