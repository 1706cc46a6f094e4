package registry

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// daemonSetStrategy is the strategy of apps/v1 DaemonSets.
func daemonSetStrategy() Strategy {
	return Typed[*appsv1.DaemonSet]{
		DefaultFunc:  defaultDaemonSet,
		ValidateFunc: validateDaemonSet,
		ValidateUpdateFunc: func(ds, old *appsv1.DaemonSet) field.ErrorList {
			errs := validateDaemonSet(ds)
			return append(errs, validateImmutable(ds.Spec.Selector, old.Spec.Selector, field.NewPath("spec", "selector"))...)
		},
	}
}

// defaultDaemonSet applies the apps/v1 defaults: a rolling update with
// maxUnavailable 1 and maxSurge 0, 10 revisions kept.
func defaultDaemonSet(ds *appsv1.DaemonSet) {
	s := &ds.Spec
	if s.UpdateStrategy.Type == "" {
		s.UpdateStrategy.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if s.UpdateStrategy.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if s.UpdateStrategy.RollingUpdate == nil {
			s.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		ru := s.UpdateStrategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = ptr.To(intstr.FromInt32(1))
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = ptr.To(intstr.FromInt32(0))
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = ptr.To[int32](10)
	}
	defaultPodTemplateSpec(&s.Template)
}

// validateDaemonSet checks the selector, the template and the update
// strategy.
func validateDaemonSet(ds *appsv1.DaemonSet) field.ErrorList {
	s := &ds.Spec
	p := field.NewPath("spec")
	sel, errs := validateRequiredSelector(s.Selector, "daemonset", p.Child("selector"))
	errs = append(errs, validateSelectorMatchesTemplate(sel, s.Template.Labels, p.Child("template"))...)
	errs = append(errs, validateAlwaysRestartTemplate(&s.Template, "DaemonSet", p.Child("template"))...)
	errs = append(errs, validateNonNegative(int64(s.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, validateOptionalNonNegative(s.RevisionHistoryLimit, p.Child("revisionHistoryLimit"))...)
	return append(errs, validateDaemonSetUpdateStrategy(&s.UpdateStrategy, p.Child("updateStrategy"))...)
}

func validateDaemonSetUpdateStrategy(st *appsv1.DaemonSetUpdateStrategy, fldPath *field.Path) field.ErrorList {
	switch st.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
		if st.RollingUpdate == nil {
			return field.ErrorList{field.Required(fldPath.Child("rollingUpdate"), "")}
		}
		return validateRollingUpdateDaemonSet(st.RollingUpdate, fldPath.Child("rollingUpdate"))
	default:
		return field.ErrorList{field.NotSupported(fldPath.Child("type"), st.Type, []string{
			string(appsv1.OnDeleteDaemonSetStrategyType), string(appsv1.RollingUpdateDaemonSetStrategyType)})}
	}
}

// validateRollingUpdateDaemonSet checks that exactly one of maxUnavailable
// and maxSurge is non-zero and both are valid ints or percentages ≤ 100%.
func validateRollingUpdateDaemonSet(ru *appsv1.RollingUpdateDaemonSet, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	unavailable, surge := intstr.FromInt32(0), intstr.FromInt32(0)
	if ru.MaxUnavailable != nil {
		unavailable = *ru.MaxUnavailable
	}
	if ru.MaxSurge != nil {
		surge = *ru.MaxSurge
	}
	errs = append(errs, validateIntOrPercent(unavailable, fldPath.Child("maxUnavailable"))...)
	errs = append(errs, validateIntOrPercent(surge, fldPath.Child("maxSurge"))...)
	errs = append(errs, validateAtMost100Percent(unavailable, fldPath.Child("maxUnavailable"))...)
	errs = append(errs, validateAtMost100Percent(surge, fldPath.Child("maxSurge"))...)
	hasUnavailable := intOrPercentValue(unavailable) != 0
	hasSurge := intOrPercentValue(surge) != 0
	switch {
	case hasUnavailable && hasSurge:
		errs = append(errs, field.Invalid(fldPath.Child("maxSurge"), surge, "may not be set when maxUnavailable is non-zero"))
	case !hasUnavailable && !hasSurge:
		errs = append(errs, field.Required(fldPath.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return errs
}
