package registry

import (
	policyv1 "k8s.io/api/policy/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// pdbStrategy is the strategy of policy/v1 PodDisruptionBudgets. Every
// spec field may change on update.
func pdbStrategy() Strategy {
	return Typed[*policyv1.PodDisruptionBudget]{
		ValidateFunc: validatePDB,
		ValidateUpdateFunc: func(pdb, _ *policyv1.PodDisruptionBudget) field.ErrorList {
			return validatePDB(pdb)
		},
	}
}

// validatePDB checks that at most one of minAvailable and maxUnavailable
// is set, each a non-negative int or a percentage ≤ 100%, the selector and
// the unhealthy pod eviction policy.
func validatePDB(pdb *policyv1.PodDisruptionBudget) field.ErrorList {
	s := &pdb.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	if s.MinAvailable != nil && s.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(p, s, "minAvailable and maxUnavailable cannot be both set"))
	}
	if s.MinAvailable != nil {
		errs = append(errs, validateIntOrPercent(*s.MinAvailable, p.Child("minAvailable"))...)
		errs = append(errs, validateAtMost100Percent(*s.MinAvailable, p.Child("minAvailable"))...)
	}
	if s.MaxUnavailable != nil {
		errs = append(errs, validateIntOrPercent(*s.MaxUnavailable, p.Child("maxUnavailable"))...)
		errs = append(errs, validateAtMost100Percent(*s.MaxUnavailable, p.Child("maxUnavailable"))...)
	}
	errs = append(errs, metav1validation.ValidateLabelSelector(s.Selector, workloadSelectorOpts(), p.Child("selector"))...)
	if pol := s.UnhealthyPodEvictionPolicy; pol != nil {
		switch *pol {
		case policyv1.IfHealthyBudget, policyv1.AlwaysAllow:
		default:
			errs = append(errs, field.NotSupported(p.Child("unhealthyPodEvictionPolicy"), *pol,
				[]string{string(policyv1.AlwaysAllow), string(policyv1.IfHealthyBudget)}))
		}
	}
	return errs
}
