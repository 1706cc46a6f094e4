package registry

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func limitRangeStrategy() Strategy {
	return Typed[*corev1.LimitRange]{
		DefaultFunc:        defaultLimitRange,
		ValidateFunc:       validateLimitRange,
		ValidateUpdateFunc: func(lr, _ *corev1.LimitRange) field.ErrorList { return validateLimitRange(lr) },
	}
}

// defaultLimitRange fills, for container limits, default from max and
// defaultRequest from default, then from min.
func defaultLimitRange(lr *corev1.LimitRange) {
	for i := range lr.Spec.Limits {
		item := &lr.Spec.Limits[i]
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		for name, q := range item.Max {
			if _, ok := item.Default[name]; !ok {
				if item.Default == nil {
					item.Default = corev1.ResourceList{}
				}
				item.Default[name] = q.DeepCopy()
			}
		}
		for _, from := range []corev1.ResourceList{item.Default, item.Min} {
			for name, q := range from {
				if _, ok := item.DefaultRequest[name]; !ok {
					if item.DefaultRequest == nil {
						item.DefaultRequest = corev1.ResourceList{}
					}
					item.DefaultRequest[name] = q.DeepCopy()
				}
			}
		}
	}
}

// anyResourceName accepts qualified names (used where upstream allows
// standard and extended resources alike).
func anyResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	return metav1validation.ValidateLabelName(string(name), fldPath)
}

func validateLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	types := []corev1.LimitType{corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim}
	seen := sets.New[corev1.LimitType]()
	for i, item := range lr.Spec.Limits {
		p := field.NewPath("spec", "limits").Index(i)
		if !sets.New(types...).Has(item.Type) {
			errs = append(errs, field.NotSupported(p.Child("type"), item.Type, types))
		}
		if seen.Has(item.Type) {
			errs = append(errs, field.Duplicate(p.Child("type"), item.Type))
		}
		seen.Insert(item.Type)
		for _, rl := range []struct {
			name string
			list corev1.ResourceList
		}{{"max", item.Max}, {"min", item.Min}, {"default", item.Default}, {"defaultRequest", item.DefaultRequest}, {"maxLimitRequestRatio", item.MaxLimitRequestRatio}} {
			errs = append(errs, validateResourceList(rl.list, anyResourceName, p.Child(rl.name))...)
		}
		if item.Type == corev1.LimitTypePod {
			if len(item.Default) > 0 {
				errs = append(errs, field.Forbidden(p.Child("default"), "may not be specified when `type` is 'Pod'"))
			}
			if len(item.DefaultRequest) > 0 {
				errs = append(errs, field.Forbidden(p.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
			}
		}
		errs = append(errs, validateLimitOrder(item, p)...)
	}
	return errs
}

// validateLimitOrder requires min <= defaultRequest <= default <= max.
func validateLimitOrder(item corev1.LimitRangeItem, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, minQ := range item.Min {
		if maxQ, ok := item.Max[name]; ok && minQ.Cmp(maxQ) > 0 {
			errs = append(errs, field.Invalid(p.Child("min").Key(string(name)), minQ.String(), fmt.Sprintf("min value %s is greater than max value %s", minQ.String(), maxQ.String())))
		}
	}
	for name, dr := range item.DefaultRequest {
		if minQ, ok := item.Min[name]; ok && minQ.Cmp(dr) > 0 {
			errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(string(name)), dr.String(), fmt.Sprintf("min value %s is greater than default request value %s", minQ.String(), dr.String())))
		}
		if d, ok := item.Default[name]; ok && dr.Cmp(d) > 0 {
			errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(string(name)), dr.String(), fmt.Sprintf("default request value %s is greater than default limit value %s", dr.String(), d.String())))
		}
	}
	for name, d := range item.Default {
		if maxQ, ok := item.Max[name]; ok && d.Cmp(maxQ) > 0 {
			errs = append(errs, field.Invalid(p.Child("default").Key(string(name)), d.String(), fmt.Sprintf("default value %s is greater than max value %s", d.String(), maxQ.String())))
		}
	}
	return errs
}

func resourceQuotaStrategy() Strategy {
	return Typed[*corev1.ResourceQuota]{
		ValidateFunc:       validateResourceQuota,
		ValidateUpdateFunc: func(q, _ *corev1.ResourceQuota) field.ErrorList { return validateResourceQuota(q) },
	}
}

func validateResourceQuota(q *corev1.ResourceQuota) field.ErrorList {
	p := field.NewPath("spec")
	errs := validateResourceList(q.Spec.Hard, anyResourceName, p.Child("hard"))
	errs = append(errs, validateResourceList(q.Status.Hard, anyResourceName, field.NewPath("status", "hard"))...)
	errs = append(errs, validateResourceList(q.Status.Used, anyResourceName, field.NewPath("status", "used"))...)
	scopes := []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeBestEffort,
		corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity, corev1.ResourceQuotaScopeVolumeAttributesClass}
	known := sets.New(scopes...)
	for i, s := range q.Spec.Scopes {
		if !known.Has(s) {
			errs = append(errs, field.NotSupported(p.Child("scopes").Index(i), s, scopes))
		}
	}
	if sel := q.Spec.ScopeSelector; sel != nil {
		ops := []corev1.ScopeSelectorOperator{corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn, corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist}
		for i, req := range sel.MatchExpressions {
			rp := p.Child("scopeSelector", "matchExpressions").Index(i)
			if !known.Has(req.ScopeName) {
				errs = append(errs, field.NotSupported(rp.Child("scopeName"), req.ScopeName, scopes))
			}
			switch req.Operator {
			case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
				if len(req.Values) == 0 {
					errs = append(errs, field.Required(rp.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
				}
			case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
				if len(req.Values) != 0 {
					errs = append(errs, field.Invalid(rp.Child("values"), req.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
				}
			default:
				errs = append(errs, field.NotSupported(rp.Child("operator"), req.Operator, ops))
			}
		}
	}
	return errs
}
