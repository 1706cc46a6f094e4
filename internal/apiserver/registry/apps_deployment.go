package registry

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// deploymentStrategy is the strategy of apps/v1 Deployments.
func deploymentStrategy() Strategy {
	return Typed[*appsv1.Deployment]{
		DefaultFunc: defaultDeployment,
		// Annotations are copied to the ReplicaSets, so changing them is a
		// new generation too (the handler bumps it for spec changes).
		PrepareForUpdateFunc: func(d, old *appsv1.Deployment) {
			if !equality.Semantic.DeepEqual(d.Annotations, old.Annotations) {
				d.Generation = old.Generation + 1
			}
		},
		ValidateFunc: validateDeployment,
		ValidateUpdateFunc: func(d, old *appsv1.Deployment) field.ErrorList {
			errs := validateDeployment(d)
			return append(errs, validateImmutable(d.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
		},
	}
}

// defaultDeployment applies the apps/v1 defaults: one replica, a rolling
// update of 25% unavailable / 25% surge, 10 old ReplicaSets kept and a
// progress deadline of 600s.
func defaultDeployment(d *appsv1.Deployment) {
	s := &d.Spec
	if s.Replicas == nil {
		s.Replicas = ptr.To[int32](1)
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		ru := s.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = ptr.To(intstr.FromString("25%"))
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = ptr.To(intstr.FromString("25%"))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr.To[int32](10)
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = ptr.To[int32](600)
	}
	defaultPodTemplateSpec(&s.Template)
}

// validateDeployment checks a Deployment's spec.
func validateDeployment(d *appsv1.Deployment) field.ErrorList {
	s := &d.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	if s.Replicas != nil {
		errs = append(errs, validateNonNegative(int64(*s.Replicas), p.Child("replicas"))...)
	}
	sel, selErrs := validateRequiredSelector(s.Selector, "deployment", p.Child("selector"))
	errs = append(errs, selErrs...)
	errs = append(errs, validateSelectorMatchesTemplate(sel, s.Template.Labels, p.Child("template"))...)
	errs = append(errs, validateAlwaysRestartTemplate(&s.Template, "ReplicaSet", p.Child("template"))...)
	errs = append(errs, validateDeploymentStrategy(&s.Strategy, p.Child("strategy"))...)
	errs = append(errs, validateNonNegative(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, validateOptionalNonNegative(s.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
	if s.ProgressDeadlineSeconds != nil {
		pds := p.Child("progressDeadlineSeconds")
		errs = append(errs, validateNonNegative(int64(*s.ProgressDeadlineSeconds), pds)...)
		if *s.ProgressDeadlineSeconds <= s.MinReadySeconds {
			errs = append(errs, field.Invalid(pds, *s.ProgressDeadlineSeconds, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

// validateDeploymentStrategy checks spec.strategy.
func validateDeploymentStrategy(st *appsv1.DeploymentStrategy, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch st.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if st.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(fldPath.Child("rollingUpdate"), "may not be specified when strategy `type` is '"+string(appsv1.RecreateDeploymentStrategyType)+"'"))
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if st.RollingUpdate == nil {
			errs = append(errs, field.Required(fldPath.Child("rollingUpdate"), "this should be defaulted and never be nil"))
		} else {
			errs = append(errs, validateRollingUpdateDeployment(st.RollingUpdate, fldPath.Child("rollingUpdate"))...)
		}
	default:
		errs = append(errs, field.NotSupported(fldPath.Child("type"), st.Type, []string{
			string(appsv1.RecreateDeploymentStrategyType), string(appsv1.RollingUpdateDeploymentStrategyType)}))
	}
	return errs
}

// validateRollingUpdateDeployment checks maxUnavailable and maxSurge: both
// non-negative ints or percentages, not both zero, maxUnavailable at most
// 100%.
func validateRollingUpdateDeployment(ru *appsv1.RollingUpdateDeployment, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	unavailable, surge := intstr.FromInt32(0), intstr.FromInt32(0)
	if ru.MaxUnavailable != nil {
		unavailable = *ru.MaxUnavailable
		errs = append(errs, validateIntOrPercent(unavailable, fldPath.Child("maxUnavailable"))...)
	}
	if ru.MaxSurge != nil {
		surge = *ru.MaxSurge
		errs = append(errs, validateIntOrPercent(surge, fldPath.Child("maxSurge"))...)
	}
	if intOrPercentValue(unavailable) == 0 && intOrPercentValue(surge) == 0 {
		errs = append(errs, field.Invalid(fldPath.Child("maxUnavailable"), unavailable, "may not be 0 when `maxSurge` is 0"))
	}
	errs = append(errs, validateAtMost100Percent(unavailable, fldPath.Child("maxUnavailable"))...)
	return errs
}
