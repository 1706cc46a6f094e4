package registry

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// leaseStrategy is the strategy of coordination.k8s.io/v1 Leases.
func leaseStrategy() Strategy {
	return Typed[*coordinationv1.Lease]{
		ValidateFunc: validateLease,
		ValidateUpdateFunc: func(l, _ *coordinationv1.Lease) field.ErrorList {
			return validateLease(l)
		},
	}
}

// validateLease checks the durations and counters of a lease and its
// coordinated-election fields.
func validateLease(l *coordinationv1.Lease) field.ErrorList {
	s := &l.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	if s.LeaseDurationSeconds != nil && *s.LeaseDurationSeconds <= 0 {
		errs = append(errs, field.Invalid(p.Child("leaseDurationSeconds"), *s.LeaseDurationSeconds, "must be greater than 0"))
	}
	if s.LeaseTransitions != nil && *s.LeaseTransitions < 0 {
		errs = append(errs, field.Invalid(p.Child("leaseTransitions"), *s.LeaseTransitions, "must be greater than or equal to 0"))
	}
	if s.Strategy != nil && *s.Strategy != coordinationv1.OldestEmulationVersion {
		errs = append(errs, field.NotSupported(p.Child("strategy"), *s.Strategy, []string{string(coordinationv1.OldestEmulationVersion)}))
	}
	if s.PreferredHolder != nil && *s.PreferredHolder != "" && (s.Strategy == nil || *s.Strategy == "") {
		errs = append(errs, field.Forbidden(p.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return errs
}
