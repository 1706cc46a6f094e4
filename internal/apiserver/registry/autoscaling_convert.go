package registry

import (
	"encoding/json"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// Annotations in which an autoscaling/v1 HPA carries what its schema cannot
// hold, so that a v2 → v1 → v2 round trip loses nothing.
const (
	hpaMetricsAnnotation        = "autoscaling.alpha.kubernetes.io/metrics"
	hpaCurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	hpaConditionsAnnotation     = "autoscaling.alpha.kubernetes.io/conditions"
	hpaBehaviorAnnotation       = "autoscaling.alpha.kubernetes.io/behavior"
)

// hpaRoundTripAnnotations lists the annotations above.
func hpaRoundTripAnnotations() []string {
	return []string{hpaMetricsAnnotation, hpaCurrentMetricsAnnotation, hpaConditionsAnnotation, hpaBehaviorAnnotation}
}

// HPAV2ToV1 converts a stored HPA to its autoscaling/v1 view. A Resource
// metric on CPU utilization becomes targetCPUUtilizationPercentage; every
// other metric, the current metrics, the conditions and the behavior are
// kept as JSON in annotations.
func HPAV2ToV1(in *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv1.HorizontalPodAutoscaler {
	out := &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
			MinReplicas:    copyInt32(in.Spec.MinReplicas),
			MaxReplicas:    in.Spec.MaxReplicas,
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{
			ObservedGeneration: copyInt64(in.Status.ObservedGeneration),
			LastScaleTime:      in.Status.LastScaleTime.DeepCopy(),
			CurrentReplicas:    in.Status.CurrentReplicas,
			DesiredReplicas:    in.Status.DesiredReplicas,
		},
	}
	if out.APIVersion != "" {
		out.APIVersion = autoscalingv1.SchemeGroupVersion.String()
	}
	var other []autoscalingv1.MetricSpec
	cpuSeen := false
	for _, m := range in.Spec.Metrics {
		// The first CPU utilization metric maps to v1's field; any other
		// goes to the annotation.
		if isCPUUtilizationMetric(m) && !cpuSeen {
			out.Spec.TargetCPUUtilizationPercentage = ptr.To(*m.Resource.Target.AverageUtilization)
			cpuSeen = true
			continue
		}
		other = append(other, metricSpecV2ToV1(m))
	}
	for _, m := range in.Status.CurrentMetrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU &&
			m.Resource.Current.AverageUtilization != nil {
			out.Status.CurrentCPUUtilizationPercentage = ptr.To(*m.Resource.Current.AverageUtilization)
		}
	}
	ann := map[string]string{}
	for k, v := range out.Annotations {
		ann[k] = v
	}
	setJSONAnnotation(ann, hpaMetricsAnnotation, len(other) > 0, other)
	setJSONAnnotation(ann, hpaCurrentMetricsAnnotation, len(in.Status.CurrentMetrics) > 0, metricStatusesV2ToV1(in.Status.CurrentMetrics))
	setJSONAnnotation(ann, hpaBehaviorAnnotation, in.Spec.Behavior != nil, in.Spec.Behavior)
	setJSONAnnotation(ann, hpaConditionsAnnotation, len(in.Status.Conditions) > 0, conditionsV2ToV1(in.Status.Conditions))
	if len(ann) > 0 {
		out.Annotations = ann
	}
	return out
}

// HPAV1ToV2 converts an autoscaling/v1 HPA to the stored form, restoring
// what the round-trip annotations carry and removing them. An HPA with no
// metric at all targets 80% CPU utilization. Malformed annotations are
// dropped; ValidateHPAV1Annotations reports them.
func HPAV1ToV2(in *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
			MinReplicas:    copyInt32(in.Spec.MinReplicas),
			MaxReplicas:    in.Spec.MaxReplicas,
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: copyInt64(in.Status.ObservedGeneration),
			LastScaleTime:      in.Status.LastScaleTime.DeepCopy(),
			CurrentReplicas:    in.Status.CurrentReplicas,
			DesiredReplicas:    in.Status.DesiredReplicas,
		},
	}
	if out.APIVersion != "" {
		out.APIVersion = autoscalingv2.SchemeGroupVersion.String()
	}
	for _, key := range hpaRoundTripAnnotations() {
		delete(out.Annotations, key)
	}
	if len(out.Annotations) == 0 {
		out.Annotations = nil
	}
	ann := in.Annotations

	var other []autoscalingv1.MetricSpec
	if json.Unmarshal([]byte(ann[hpaMetricsAnnotation]), &other) == nil {
		for _, m := range other {
			out.Spec.Metrics = append(out.Spec.Metrics, metricSpecV1ToV2(m))
		}
	}
	if pct := in.Spec.TargetCPUUtilizationPercentage; pct != nil {
		out.Spec.Metrics = append(out.Spec.Metrics, hpaCPUUtilizationMetric(*pct))
	}
	if len(out.Spec.Metrics) == 0 {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{hpaCPUUtilizationMetric(hpaDefaultCPUUtilization)}
	}
	if raw, ok := ann[hpaBehaviorAnnotation]; ok {
		var b autoscalingv2.HorizontalPodAutoscalerBehavior
		if json.Unmarshal([]byte(raw), &b) == nil {
			out.Spec.Behavior = &b
		}
	}

	var current []autoscalingv1.MetricStatus
	if raw, ok := ann[hpaCurrentMetricsAnnotation]; ok && json.Unmarshal([]byte(raw), &current) == nil {
		out.Status.CurrentMetrics = metricStatusesV1ToV2(current)
	} else if pct := in.Status.CurrentCPUUtilizationPercentage; pct != nil {
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{
				Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To(*pct)},
			},
		}}
	}
	var conds []autoscalingv1.HorizontalPodAutoscalerCondition
	if json.Unmarshal([]byte(ann[hpaConditionsAnnotation]), &conds) == nil {
		out.Status.Conditions = conditionsV1ToV2(conds)
	}
	return out
}

// isCPUUtilizationMetric reports a Resource metric on CPU with a
// utilization target, which v1 expresses as targetCPUUtilizationPercentage.
func isCPUUtilizationMetric(m autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
		m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil
}

// setJSONAnnotation stores v as JSON under key when present.
func setJSONAnnotation(ann map[string]string, key string, present bool, v any) {
	delete(ann, key)
	if !present {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		// The values are plain API structs; marshalling cannot fail.
		return
	}
	ann[key] = string(data)
}

func copyInt32(p *int32) *int32 {
	if p == nil {
		return nil
	}
	return ptr.To(*p)
}

func copyInt64(p *int64) *int64 {
	if p == nil {
		return nil
	}
	return ptr.To(*p)
}

func conditionsV2ToV1(in []autoscalingv2.HorizontalPodAutoscalerCondition) []autoscalingv1.HorizontalPodAutoscalerCondition {
	var out []autoscalingv1.HorizontalPodAutoscalerCondition
	for _, c := range in {
		out = append(out, autoscalingv1.HorizontalPodAutoscalerCondition{
			Type: autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status, LastTransitionTime: c.LastTransitionTime,
			Reason: c.Reason, Message: c.Message, ObservedGeneration: copyInt64(c.ObservedGeneration),
		})
	}
	return out
}

func conditionsV1ToV2(in []autoscalingv1.HorizontalPodAutoscalerCondition) []autoscalingv2.HorizontalPodAutoscalerCondition {
	var out []autoscalingv2.HorizontalPodAutoscalerCondition
	for _, c := range in {
		out = append(out, autoscalingv2.HorizontalPodAutoscalerCondition{
			Type: autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status, LastTransitionTime: c.LastTransitionTime,
			Reason: c.Reason, Message: c.Message, ObservedGeneration: copyInt64(c.ObservedGeneration),
		})
	}
	return out
}
