package registry

import (
	"fmt"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Autoscaling constants upstream documents.
const (
	// hpaDefaultCPUUtilization is the target of the metric an HPA gets when
	// it names none.
	hpaDefaultCPUUtilization         = 80
	hpaMaxStabilizationWindowSeconds = 3600
	hpaMaxPeriodSeconds              = 1800
)

// hpaStrategy is the strategy of autoscaling/v2 HorizontalPodAutoscalers,
// the stored form of every HPA.
func hpaStrategy() Strategy {
	return Typed[*autoscalingv2.HorizontalPodAutoscaler]{
		DefaultFunc:  defaultHPA,
		ValidateFunc: validateHPA,
		ValidateUpdateFunc: func(h, _ *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
			return validateHPA(h)
		},
	}
}

// defaultHPA defaults minReplicas to 1, the metrics to 80% average CPU
// utilization, and fills the unset parts of a given behavior.
func defaultHPA(h *autoscalingv2.HorizontalPodAutoscaler) {
	s := &h.Spec
	if s.MinReplicas == nil {
		s.MinReplicas = ptr.To[int32](1)
	}
	if len(s.Metrics) == 0 {
		s.Metrics = []autoscalingv2.MetricSpec{hpaCPUUtilizationMetric(hpaDefaultCPUUtilization)}
	}
	if s.Behavior != nil {
		s.Behavior.ScaleUp = mergeScalingRules(s.Behavior.ScaleUp, hpaDefaultScaleUp())
		s.Behavior.ScaleDown = mergeScalingRules(s.Behavior.ScaleDown, hpaDefaultScaleDown())
	}
}

// hpaCPUUtilizationMetric is a Resource metric targeting an average CPU
// utilization.
func hpaCPUUtilizationMetric(percent int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(percent)},
		},
	}
}

// hpaDefaultScaleUp: no stabilization; per 15s, add the larger of 4 pods
// and 100%.
func hpaDefaultScaleUp() *autoscalingv2.HPAScalingRules {
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: ptr.To[int32](0),
		SelectPolicy:               ptr.To(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// hpaDefaultScaleDown: a 300s stabilization window, then up to 100% per
// 15s.
func hpaDefaultScaleDown() *autoscalingv2.HPAScalingRules {
	return &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: ptr.To[int32](300),
		SelectPolicy:               ptr.To(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
}

// mergeScalingRules returns defaults overridden by each field set in rules.
func mergeScalingRules(rules, defaults *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if rules == nil {
		return defaults
	}
	if rules.SelectPolicy != nil {
		defaults.SelectPolicy = rules.SelectPolicy
	}
	if rules.StabilizationWindowSeconds != nil {
		defaults.StabilizationWindowSeconds = rules.StabilizationWindowSeconds
	}
	if rules.Policies != nil {
		defaults.Policies = rules.Policies
	}
	if rules.Tolerance != nil {
		defaults.Tolerance = rules.Tolerance
	}
	return defaults
}

// validateHPA checks an HPA's spec.
func validateHPA(h *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	s := &h.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	if s.MinReplicas != nil && *s.MinReplicas < 1 {
		errs = append(errs, field.Invalid(p.Child("minReplicas"), *s.MinReplicas, "must be greater than or equal to 1"))
	}
	if s.MaxReplicas < 1 {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), s.MaxReplicas, "must be greater than 0"))
	}
	if s.MinReplicas != nil && s.MaxReplicas < *s.MinReplicas {
		errs = append(errs, field.Invalid(p.Child("maxReplicas"), s.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	errs = append(errs, validateCrossVersionRef(s.ScaleTargetRef, p.Child("scaleTargetRef"))...)
	for i := range s.Metrics {
		errs = append(errs, validateMetricSpec(&s.Metrics[i], p.Child("metrics").Index(i))...)
	}
	if b := s.Behavior; b != nil {
		errs = append(errs, validateScalingRules(b.ScaleUp, p.Child("behavior", "scaleUp"))...)
		errs = append(errs, validateScalingRules(b.ScaleDown, p.Child("behavior", "scaleDown"))...)
	}
	return errs
}

// validateCrossVersionRef requires a kind and a name, each a valid path
// segment.
func validateCrossVersionRef(ref autoscalingv2.CrossVersionObjectReference, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	check := func(v string, fp *field.Path) {
		if v == "" {
			errs = append(errs, field.Required(fp, ""))
			return
		}
		for _, msg := range path.IsValidPathSegmentName(v) {
			errs = append(errs, field.Invalid(fp, v, msg))
		}
	}
	check(ref.Kind, p.Child("kind"))
	check(ref.Name, p.Child("name"))
	return errs
}

// validateMetricSpec requires the source named by type, and only it.
func validateMetricSpec(m *autoscalingv2.MetricSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	sources := []struct {
		typ   autoscalingv2.MetricSourceType
		field string
		set   bool
		check func() field.ErrorList
	}{
		{autoscalingv2.ObjectMetricSourceType, "object", m.Object != nil, func() field.ErrorList { return validateObjectMetric(m.Object, p.Child("object")) }},
		{autoscalingv2.PodsMetricSourceType, "pods", m.Pods != nil, func() field.ErrorList { return validatePodsMetric(m.Pods, p.Child("pods")) }},
		{autoscalingv2.ResourceMetricSourceType, "resource", m.Resource != nil, func() field.ErrorList {
			return validateResourceMetric(m.Resource.Name, &m.Resource.Target, p.Child("resource"))
		}},
		{autoscalingv2.ContainerResourceMetricSourceType, "containerResource", m.ContainerResource != nil, func() field.ErrorList {
			cp := p.Child("containerResource")
			errs := validateResourceMetric(m.ContainerResource.Name, &m.ContainerResource.Target, cp)
			return append(errs, validateMetricContainer(m.ContainerResource.Container, cp.Child("container"))...)
		}},
		{autoscalingv2.ExternalMetricSourceType, "external", m.External != nil, func() field.ErrorList { return validateExternalMetric(m.External, p.Child("external")) }},
	}
	var valid []string
	known := false
	for _, src := range sources {
		valid = append(valid, string(src.typ))
		if src.typ == m.Type {
			known = true
		}
	}
	switch {
	case m.Type == "":
		errs = append(errs, field.Required(p.Child("type"), "must specify a metric source type"))
	case !known:
		errs = append(errs, field.NotSupported(p.Child("type"), m.Type, valid))
	}
	checked := false
	for _, src := range sources {
		switch {
		case src.typ == m.Type && !src.set:
			errs = append(errs, field.Required(p.Child(src.field), "must populate information for the given metric source"))
		case src.set && known && src.typ != m.Type:
			errs = append(errs, field.Forbidden(p.Child(src.field), "must populate the given metric source only"))
		case src.set && !checked:
			checked = true
			errs = append(errs, src.check()...)
		}
	}
	return errs
}

func validateObjectMetric(src *autoscalingv2.ObjectMetricSource, p *field.Path) field.ErrorList {
	errs := validateCrossVersionRef(src.DescribedObject, p.Child("describedObject"))
	errs = append(errs, validateMetricIdentifier(src.Metric, p.Child("metric"))...)
	errs = append(errs, validateMetricTarget(src.Target, p.Child("target"))...)
	if src.Target.Value == nil && src.Target.AverageValue == nil {
		errs = append(errs, field.Required(p.Child("target", "averageValue"), "must set either a target value or averageValue"))
	}
	return errs
}

func validatePodsMetric(src *autoscalingv2.PodsMetricSource, p *field.Path) field.ErrorList {
	errs := validateMetricIdentifier(src.Metric, p.Child("metric"))
	errs = append(errs, validateMetricTarget(src.Target, p.Child("target"))...)
	if src.Target.AverageValue == nil {
		errs = append(errs, field.Required(p.Child("target", "averageValue"), "must specify a positive target averageValue"))
	}
	return errs
}

// validateResourceMetric checks Resource and ContainerResource metrics: a
// utilization or an average value, not both.
func validateResourceMetric(name corev1.ResourceName, t *autoscalingv2.MetricTarget, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), "must specify a resource name"))
	}
	errs = append(errs, validateMetricTarget(*t, p.Child("target"))...)
	if t.AverageUtilization == nil && t.AverageValue == nil {
		errs = append(errs, field.Required(p.Child("target", "averageUtilization"), "must set either a target raw value or a target utilization"))
	}
	if t.AverageUtilization != nil && t.AverageValue != nil {
		errs = append(errs, field.Forbidden(p.Child("target", "averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return errs
}

// validateMetricContainer requires the container of a ContainerResource
// metric, a DNS label.
func validateMetricContainer(name string, p *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "must populate container name")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func validateExternalMetric(src *autoscalingv2.ExternalMetricSource, p *field.Path) field.ErrorList {
	errs := validateMetricIdentifier(src.Metric, p.Child("metric"))
	errs = append(errs, validateMetricTarget(src.Target, p.Child("target"))...)
	switch {
	case src.Target.Value == nil && src.Target.AverageValue == nil:
		errs = append(errs, field.Required(p.Child("target", "averageValue"), "must set either a target value for metric or a per-pod target"))
	case src.Target.Value != nil && src.Target.AverageValue != nil:
		errs = append(errs, field.Forbidden(p.Child("target", "value"), "may not set both a target value for metric and a per-pod target"))
	}
	return errs
}

func validateMetricIdentifier(id autoscalingv2.MetricIdentifier, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if id.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), "must specify a metric name"))
	} else {
		for _, msg := range path.IsValidPathSegmentName(id.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), id.Name, msg))
		}
	}
	if id.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(id.Selector, workloadSelectorOpts(), p.Child("selector"))...)
	}
	return errs
}

// validateMetricTarget checks the target type and that set values are
// positive.
func validateMetricTarget(t autoscalingv2.MetricTarget, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch t.Type {
	case "":
		return field.ErrorList{field.Required(p.Child("type"), "must specify a metric target type")}
	case autoscalingv2.UtilizationMetricType, autoscalingv2.ValueMetricType, autoscalingv2.AverageValueMetricType:
	default:
		errs = append(errs, field.Invalid(p.Child("type"), t.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if t.Value != nil && t.Value.Sign() != 1 {
		errs = append(errs, field.Invalid(p.Child("value"), t.Value.String(), "must be positive"))
	}
	if t.AverageValue != nil && t.AverageValue.Sign() != 1 {
		errs = append(errs, field.Invalid(p.Child("averageValue"), t.AverageValue.String(), "must be positive"))
	}
	if t.AverageUtilization != nil && *t.AverageUtilization < 1 {
		errs = append(errs, field.Invalid(p.Child("averageUtilization"), *t.AverageUtilization, "must be greater than 0"))
	}
	return errs
}

// validateScalingRules checks one direction of an HPA behavior.
func validateScalingRules(r *autoscalingv2.HPAScalingRules, p *field.Path) field.ErrorList {
	if r == nil {
		return nil
	}
	var errs field.ErrorList
	if w := r.StabilizationWindowSeconds; w != nil {
		wp := p.Child("stabilizationWindowSeconds")
		if *w < 0 {
			errs = append(errs, field.Invalid(wp, *w, "must be greater than or equal to zero"))
		}
		if *w > hpaMaxStabilizationWindowSeconds {
			errs = append(errs, field.Invalid(wp, *w, fmt.Sprintf("must be less than or equal to %d", hpaMaxStabilizationWindowSeconds)))
		}
	}
	if sp := r.SelectPolicy; sp != nil {
		switch *sp {
		case autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect:
		default:
			errs = append(errs, field.NotSupported(p.Child("selectPolicy"), *sp, []string{
				string(autoscalingv2.DisabledPolicySelect), string(autoscalingv2.MaxChangePolicySelect), string(autoscalingv2.MinChangePolicySelect)}))
		}
	}
	if len(r.Policies) == 0 {
		errs = append(errs, field.Required(p.Child("policies"), "must specify at least one Policy"))
	}
	for i, pol := range r.Policies {
		pp := p.Child("policies").Index(i)
		if pol.Type != autoscalingv2.PodsScalingPolicy && pol.Type != autoscalingv2.PercentScalingPolicy {
			errs = append(errs, field.NotSupported(pp.Child("type"), pol.Type, []string{
				string(autoscalingv2.PodsScalingPolicy), string(autoscalingv2.PercentScalingPolicy)}))
		}
		if pol.Value <= 0 {
			errs = append(errs, field.Invalid(pp.Child("value"), pol.Value, "must be greater than zero"))
		}
		if pol.PeriodSeconds <= 0 {
			errs = append(errs, field.Invalid(pp.Child("periodSeconds"), pol.PeriodSeconds, "must be greater than zero"))
		}
		if pol.PeriodSeconds > hpaMaxPeriodSeconds {
			errs = append(errs, field.Invalid(pp.Child("periodSeconds"), pol.PeriodSeconds, fmt.Sprintf("must be less than or equal to %d", hpaMaxPeriodSeconds)))
		}
	}
	if r.Tolerance != nil && r.Tolerance.Sign() < 0 {
		errs = append(errs, field.Invalid(p.Child("tolerance"), r.Tolerance.String(), "must be greater than or equal to zero"))
	}
	return errs
}
