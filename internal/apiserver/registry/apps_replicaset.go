package registry

import (
	"bytes"
	"encoding/json"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// replicaSetStrategy is the strategy of apps/v1 ReplicaSets.
func replicaSetStrategy() Strategy {
	return Typed[*appsv1.ReplicaSet]{
		DefaultFunc:  defaultReplicaSet,
		ValidateFunc: validateReplicaSet,
		ValidateUpdateFunc: func(rs, old *appsv1.ReplicaSet) field.ErrorList {
			errs := validateReplicaSet(rs)
			return append(errs, validateImmutable(rs.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
		},
	}
}

// defaultReplicaSet defaults replicas to 1 and the pod template.
func defaultReplicaSet(rs *appsv1.ReplicaSet) {
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = ptr.To[int32](1)
	}
	defaultPodTemplateSpec(&rs.Spec.Template)
}

// validateReplicaSet checks replicas, minReadySeconds, the selector and
// the template.
func validateReplicaSet(rs *appsv1.ReplicaSet) field.ErrorList {
	s := &rs.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	if s.Replicas != nil {
		errs = append(errs, validateNonNegative(int64(*s.Replicas), p.Child("replicas"))...)
	}
	errs = append(errs, validateNonNegative(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	sel, selErrs := validateRequiredSelector(s.Selector, "replicaset", p.Child("selector"))
	errs = append(errs, selErrs...)
	errs = append(errs, validateSelectorMatchesTemplate(sel, s.Template.Labels, p.Child("template"))...)
	errs = append(errs, validateAlwaysRestartTemplate(&s.Template, "ReplicaSet", p.Child("template"))...)
	return errs
}

// controllerRevisionStrategy is the strategy of apps/v1 ControllerRevisions:
// data is required and immutable, revision non-negative.
func controllerRevisionStrategy() Strategy {
	return Typed[*appsv1.ControllerRevision]{
		ValidateFunc: validateControllerRevision,
		ValidateUpdateFunc: func(cr, old *appsv1.ControllerRevision) field.ErrorList {
			errs := validateControllerRevision(cr)
			if !sameRawJSON(cr.Data, old.Data) {
				errs = append(errs, field.Invalid(field.NewPath("data"), cr.Data, "field is immutable"))
			}
			return errs
		},
	}
}

func validateControllerRevision(cr *appsv1.ControllerRevision) field.ErrorList {
	var errs field.ErrorList
	if cr.Data.Raw == nil && cr.Data.Object == nil {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	return append(errs, validateNonNegative(cr.Revision, field.NewPath("revision"))...)
}

// sameRawJSON compares two raw extensions as JSON, ignoring insignificant
// whitespace (stored data is compacted, a client may send it indented).
func sameRawJSON(a, b runtime.RawExtension) bool {
	if a.Object != nil || b.Object != nil {
		return equality.Semantic.DeepEqual(a, b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a.Raw) != nil || json.Compact(&cb, b.Raw) != nil {
		return bytes.Equal(a.Raw, b.Raw)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
