package tables

import (
	"fmt"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const unknownMetric = "<unknown>"

// addAutoscaling registers HorizontalPodAutoscalers of autoscaling/v2 and
// autoscaling/v1 with the same columns.
func addAutoscaling(r registry) {
	spec := autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()
	columns := []metav1.TableColumnDefinition{
		nameColumn(),
		column("Reference", "string", spec["scaleTargetRef"]),
		column("Targets", "string", spec["metrics"]),
		column("MinPods", "string", spec["minReplicas"]),
		column("MaxPods", "string", spec["maxReplicas"]),
		column("Replicas", "string", autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()["currentReplicas"]),
		ageColumn(),
	}
	addCells(r, columns, func(h *autoscalingv2.HorizontalPodAutoscaler, now time.Time) []any {
		ref := h.Spec.ScaleTargetRef
		return hpaCells(h.ObjectMeta, ref.Kind+"/"+ref.Name, hpaTargets(h.Spec.Metrics, h.Status.CurrentMetrics),
			h.Spec.MinReplicas, h.Spec.MaxReplicas, h.Status.CurrentReplicas, now)
	})
	addCells(r, columns, func(h *autoscalingv1.HorizontalPodAutoscaler, now time.Time) []any {
		ref := h.Spec.ScaleTargetRef
		return hpaCells(h.ObjectMeta, ref.Kind+"/"+ref.Name, hpaV1Targets(h),
			h.Spec.MinReplicas, h.Spec.MaxReplicas, h.Status.CurrentReplicas, now)
	})
}

func hpaCells(m metav1.ObjectMeta, ref, targets string, minReplicas *int32, maxReplicas, current int32, now time.Time) []any {
	minPods := "<unset>"
	if minReplicas != nil {
		minPods = fmt.Sprintf("%d", *minReplicas)
	}
	return []any{m.Name, ref, targets, minPods, int64(maxReplicas), int64(current), age(now, m.CreationTimestamp)}
}

// hpaV1Targets shows the CPU utilization target, the only metric of
// autoscaling/v1.
func hpaV1Targets(h *autoscalingv1.HorizontalPodAutoscaler) string {
	if h.Spec.TargetCPUUtilizationPercentage == nil {
		return "<none>"
	}
	current := unknownMetric
	if c := h.Status.CurrentCPUUtilizationPercentage; c != nil {
		current = fmt.Sprintf("%d%%", *c)
	}
	return fmt.Sprintf("%s: %s/%d%%", corev1.ResourceCPU, current, *h.Spec.TargetCPUUtilizationPercentage)
}

// hpaTargets prints "current/target" for the first two metrics. Status
// entries are matched to specs by position.
func hpaTargets(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return "<none>"
	}
	list := make([]string, len(specs))
	for i, spec := range specs {
		var st *autoscalingv2.MetricStatus
		if i < len(statuses) {
			st = &statuses[i]
		}
		list[i] = metricTarget(spec, st)
	}
	return firstN(list, 2, ", ")
}

func metricTarget(spec autoscalingv2.MetricSpec, st *autoscalingv2.MetricStatus) string {
	switch {
	case spec.Type == autoscalingv2.ExternalMetricSourceType && spec.External != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.External != nil {
			cur = &st.External.Current
		}
		return valueTarget(spec.External.Target, cur)
	case spec.Type == autoscalingv2.PodsMetricSourceType && spec.Pods != nil:
		current := unknownMetric
		if st != nil && st.Pods != nil {
			current = st.Pods.Current.AverageValue.String()
		}
		return current + "/" + spec.Pods.Target.AverageValue.String()
	case spec.Type == autoscalingv2.ObjectMetricSourceType && spec.Object != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Object != nil {
			cur = &st.Object.Current
		}
		return valueTarget(spec.Object.Target, cur)
	case spec.Type == autoscalingv2.ResourceMetricSourceType && spec.Resource != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.Resource != nil {
			cur = &st.Resource.Current
		}
		return string(spec.Resource.Name) + ": " + resourceTarget(spec.Resource.Target, cur)
	case spec.Type == autoscalingv2.ContainerResourceMetricSourceType && spec.ContainerResource != nil:
		var cur *autoscalingv2.MetricValueStatus
		if st != nil && st.ContainerResource != nil {
			cur = &st.ContainerResource.Current
		}
		return string(spec.ContainerResource.Name) + ": " + resourceTarget(spec.ContainerResource.Target, cur)
	}
	return "<unknown type>"
}

// valueTarget formats an object or external metric: an average value
// target is marked "(avg)".
func valueTarget(target autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := unknownMetric
	if target.AverageValue != nil {
		if cur != nil && cur.AverageValue != nil {
			current = cur.AverageValue.String()
		}
		return fmt.Sprintf("%s/%s (avg)", current, target.AverageValue.String())
	}
	if cur != nil {
		current = cur.Value.String()
	}
	return current + "/" + target.Value.String()
}

// resourceTarget formats a resource metric: an average value, or a
// utilization percentage ("<auto>" when the target has neither).
func resourceTarget(target autoscalingv2.MetricTarget, cur *autoscalingv2.MetricValueStatus) string {
	current := unknownMetric
	if target.AverageValue != nil {
		if cur != nil {
			current = cur.AverageValue.String()
		}
		return current + "/" + target.AverageValue.String()
	}
	if cur != nil && cur.AverageUtilization != nil {
		current = fmt.Sprintf("%d%%", *cur.AverageUtilization)
	}
	want := "<auto>"
	if target.AverageUtilization != nil {
		want = fmt.Sprintf("%d%%", *target.AverageUtilization)
	}
	return current + "/" + want
}
