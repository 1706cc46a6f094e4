package registry

import (
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Helpers shared by the workload (apps, batch, policy) strategies.

// workloadSelectorOpts are the label selector validation options upstream
// uses for workload selectors.
func workloadSelectorOpts() metav1validation.LabelSelectorValidationOptions {
	return metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: false}
}

// validateNonNegative reports a negative value at fldPath.
func validateNonNegative(v int64, fldPath *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateNonnegativeField(v, fldPath)
}

// validateOptionalNonNegative is validateNonNegative for optional int32s.
func validateOptionalNonNegative(v *int32, fldPath *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return validateNonNegative(int64(*v), fldPath)
}

// validateIntOrPercent accepts a non-negative integer or a percentage such
// as "25%".
func validateIntOrPercent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch v.Type {
	case intstr.String:
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(fldPath, v, msg))
		}
	case intstr.Int:
		errs = append(errs, validateNonNegative(int64(v.IntValue()), fldPath)...)
	default:
		errs = append(errs, field.Invalid(fldPath, v, "must be an integer or percentage (e.g '5%')"))
	}
	return errs
}

// percentOf returns the number of a percentage value and whether v is one.
func percentOf(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || !strings.HasSuffix(v.StrVal, "%") {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(v.StrVal, "%"))
	if err != nil {
		return 0, false
	}
	return n, true
}

// intOrPercentValue returns the number an int or percentage holds (the
// percentage number for percentages), -1 if it is neither.
func intOrPercentValue(v intstr.IntOrString) int {
	if n, ok := percentOf(v); ok {
		return n
	}
	if v.Type == intstr.Int {
		return v.IntValue()
	}
	return -1
}

// validateAtMost100Percent reports a percentage above 100%.
func validateAtMost100Percent(v intstr.IntOrString, fldPath *field.Path) field.ErrorList {
	if n, ok := percentOf(v); ok && n > 100 {
		return field.ErrorList{field.Invalid(fldPath, v, "must not be greater than 100%")}
	}
	return nil
}

// validateRequiredSelector checks a workload selector that must be set and
// non-empty, and returns it parsed (nil when invalid).
func validateRequiredSelector(sel *metav1.LabelSelector, kind string, fldPath *field.Path) (labels.Selector, field.ErrorList) {
	if sel == nil {
		return nil, field.ErrorList{field.Required(fldPath, "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, workloadSelectorOpts(), fldPath)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(fldPath, sel, "empty selector is invalid for "+kind))
	}
	parsed, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return nil, errs
	}
	return parsed, errs
}

// validateSelectorMatchesTemplate reports a template whose labels the
// selector does not select.
func validateSelectorMatchesTemplate(sel labels.Selector, tmplLabels map[string]string, fldPath *field.Path) field.ErrorList {
	if sel == nil || sel.Empty() || sel.Matches(labels.Set(tmplLabels)) {
		return nil
	}
	return field.ErrorList{field.Invalid(fldPath.Child("metadata", "labels"), tmplLabels, "`selector` does not match template `labels`")}
}

// validateAlwaysRestartTemplate validates the pod template of a controller
// whose pods run forever (ReplicaSet, Deployment, DaemonSet, StatefulSet):
// restartPolicy must be Always and activeDeadlineSeconds is not supported.
func validateAlwaysRestartTemplate(t *corev1.PodTemplateSpec, kind string, fldPath *field.Path) field.ErrorList {
	errs := validatePodTemplateSpec(t, fldPath)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(fldPath.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []string{string(corev1.RestartPolicyAlways)}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(fldPath.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in "+kind+" is not Supported"))
	}
	return errs
}

// validateImmutable reports a changed immutable field.
func validateImmutable(newVal, oldVal any, fldPath *field.Path) field.ErrorList {
	return apimachineryvalidation.ValidateImmutableField(newVal, oldVal, fldPath)
}
