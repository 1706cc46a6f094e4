package registry

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits of Job failure and success policies.
const (
	maxPodFailurePolicyRules   = 20
	maxOnPodConditionsPatterns = 20
	maxOnExitCodesValues       = 255
	maxSuccessPolicyRules      = 20
	maxSucceededIndexesLength  = 64 * 1024
)

// validatePodFailurePolicy checks the rules of spec.podFailurePolicy: each
// has a known action and exactly one of onExitCodes and onPodConditions.
func validatePodFailurePolicy(s *batchv1.JobSpec, p *field.Path) field.ErrorList {
	if s.PodFailurePolicy == nil {
		return nil
	}
	var errs field.ErrorList
	rp := p.Child("rules")
	rules := s.PodFailurePolicy.Rules
	if len(rules) > maxPodFailurePolicyRules {
		errs = append(errs, field.TooMany(rp, len(rules), maxPodFailurePolicyRules))
	}
	containers := map[string]bool{}
	for _, c := range s.Template.Spec.Containers {
		containers[c.Name] = true
	}
	for _, c := range s.Template.Spec.InitContainers {
		containers[c.Name] = true
	}
	for i := range rules {
		errs = append(errs, validatePodFailurePolicyRule(s, &rules[i], containers, rp.Index(i))...)
	}
	return errs
}

func validatePodFailurePolicyRule(s *batchv1.JobSpec, r *batchv1.PodFailurePolicyRule, containers map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	actions := []string{string(batchv1.PodFailurePolicyActionCount), string(batchv1.PodFailurePolicyActionFailIndex),
		string(batchv1.PodFailurePolicyActionFailJob), string(batchv1.PodFailurePolicyActionIgnore)}
	ap := p.Child("action")
	switch r.Action {
	case "":
		errs = append(errs, field.Required(ap, fmt.Sprintf("valid values: %q", actions)))
	case batchv1.PodFailurePolicyActionFailIndex:
		if s.BackoffLimitPerIndex == nil {
			errs = append(errs, field.Invalid(ap, r.Action, "requires the backoffLimitPerIndex to be set"))
		}
	case batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore:
	default:
		errs = append(errs, field.NotSupported(ap, r.Action, actions))
	}
	if r.OnExitCodes != nil {
		errs = append(errs, validateOnExitCodes(r.OnExitCodes, containers, p.Child("onExitCodes"))...)
	}
	cp := p.Child("onPodConditions")
	if len(r.OnPodConditions) > maxOnPodConditionsPatterns {
		errs = append(errs, field.TooMany(cp, len(r.OnPodConditions), maxOnPodConditionsPatterns))
	}
	for j, pat := range r.OnPodConditions {
		pp := cp.Index(j)
		for _, msg := range validation.IsQualifiedName(string(pat.Type)) {
			errs = append(errs, field.Invalid(pp.Child("type"), pat.Type, msg))
		}
		statuses := []string{string(corev1.ConditionFalse), string(corev1.ConditionTrue), string(corev1.ConditionUnknown)}
		switch pat.Status {
		case "":
			errs = append(errs, field.Required(pp.Child("status"), fmt.Sprintf("valid values: %q", statuses)))
		case corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown:
		default:
			errs = append(errs, field.NotSupported(pp.Child("status"), pat.Status, statuses))
		}
	}
	switch {
	case r.OnExitCodes != nil && len(r.OnPodConditions) > 0:
		errs = append(errs, field.Invalid(p, field.OmitValueType{}, "specifying both OnExitCodes and OnPodConditions is not supported"))
	case r.OnExitCodes == nil && len(r.OnPodConditions) == 0:
		errs = append(errs, field.Invalid(p, field.OmitValueType{}, "specifying one of OnExitCodes and OnPodConditions is required"))
	}
	return errs
}

// validateOnExitCodes requires a known operator, a container of the
// template if one is named, and 1–255 unique, ordered values (no 0 for In).
func validateOnExitCodes(r *batchv1.PodFailurePolicyOnExitCodesRequirement, containers map[string]bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	ops := []string{string(batchv1.PodFailurePolicyOnExitCodesOpIn), string(batchv1.PodFailurePolicyOnExitCodesOpNotIn)}
	switch r.Operator {
	case "":
		errs = append(errs, field.Required(p.Child("operator"), fmt.Sprintf("valid values: %q", ops)))
	case batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn:
	default:
		errs = append(errs, field.NotSupported(p.Child("operator"), r.Operator, ops))
	}
	if r.ContainerName != nil && !containers[*r.ContainerName] {
		errs = append(errs, field.Invalid(p.Child("containerName"), *r.ContainerName, "must be one of the container or initContainer names in the pod template"))
	}
	vp := p.Child("values")
	switch {
	case len(r.Values) == 0:
		errs = append(errs, field.Invalid(vp, r.Values, "at least one value is required"))
	case len(r.Values) > maxOnExitCodesValues:
		errs = append(errs, field.TooMany(vp, len(r.Values), maxOnExitCodesValues))
	default:
		seen := map[int32]bool{}
		ordered := true
		for j, v := range r.Values {
			if r.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && v == 0 {
				errs = append(errs, field.Invalid(vp.Index(j), v, "must not be 0 for the In operator"))
			}
			if seen[v] {
				errs = append(errs, field.Duplicate(vp.Index(j), v))
			}
			seen[v] = true
			if j > 0 && r.Values[j-1] > v {
				ordered = false
			}
		}
		if !ordered {
			errs = append(errs, field.Invalid(vp, r.Values, "must be ordered"))
		}
	}
	return errs
}

// validateSuccessPolicy checks the rules of spec.successPolicy of an
// Indexed job: each names succeeded indexes, a count, or both, within the
// job's completions.
func validateSuccessPolicy(s *batchv1.JobSpec, p *field.Path) field.ErrorList {
	if s.SuccessPolicy == nil || s.Completions == nil {
		return nil
	}
	var errs field.ErrorList
	rp := p.Child("rules")
	rules := s.SuccessPolicy.Rules
	if len(rules) == 0 {
		errs = append(errs, field.Required(rp, "at least one rules must be specified when the successPolicy is specified"))
	}
	if len(rules) > maxSuccessPolicyRules {
		errs = append(errs, field.TooMany(rp, len(rules), maxSuccessPolicyRules))
	}
	completions := *s.Completions
	for i, r := range rules {
		ip := rp.Index(i)
		if r.SucceededIndexes == nil && r.SucceededCount == nil {
			errs = append(errs, field.Required(ip, "at least one of succeededCount or succeededIndexes must be specified"))
		}
		var total int32
		if r.SucceededIndexes != nil {
			xp := ip.Child("succeededIndexes")
			if len(*r.SucceededIndexes) > maxSucceededIndexesLength {
				errs = append(errs, field.TooLong(xp, "", maxSucceededIndexesLength))
			}
			n, err := countIndexes(*r.SucceededIndexes, completions)
			if err != nil {
				errs = append(errs, field.Invalid(xp, *r.SucceededIndexes, "error parsing succeededIndexes: "+err.Error()))
			}
			total = n
		}
		if c := r.SucceededCount; c != nil {
			cp := ip.Child("succeededCount")
			errs = append(errs, validateNonNegative(int64(*c), cp)...)
			if *c > completions {
				errs = append(errs, field.Invalid(cp, *c, fmt.Sprintf("must be less than or equal to %d (the number of specified completions)", completions)))
			}
			if r.SucceededIndexes != nil && *c > total {
				errs = append(errs, field.Invalid(cp, *c, fmt.Sprintf("must be less than or equal to %d (the number of indexes in the specified succeededIndexes field)", total)))
			}
		}
	}
	return errs
}

// countIndexes parses an index list such as "1,3-5,7" (increasing,
// non-overlapping, each below completions) and returns how many indexes
// it names.
func countIndexes(list string, completions int32) (int32, error) {
	var total int32
	prev := int64(-1)
	for _, item := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(item, "-")
		first, err := strconv.ParseInt(lo, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("cannot convert string to integer for index: %q", lo)
		}
		last := first
		if isRange {
			if last, err = strconv.ParseInt(hi, 10, 32); err != nil {
				return 0, fmt.Errorf("cannot convert string to integer for index: %q", hi)
			}
			if first >= last {
				return 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", first, last)
			}
		}
		switch {
		case first < 0:
			return 0, errors.New("negative index")
		case last >= int64(completions):
			return 0, fmt.Errorf("too large index: %d", last)
		case first <= prev:
			return 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", prev, first)
		}
		total += int32(last - first + 1)
		prev = last
	}
	return total, nil
}
