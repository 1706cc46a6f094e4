package registry

import (
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Conversion of metric specs and statuses between the autoscaling/v1
// annotation form (the older, flat layout) and autoscaling/v2.

func quantityPtr(q *resource.Quantity) *resource.Quantity {
	if q == nil {
		return nil
	}
	c := q.DeepCopy()
	return &c
}

func quantityValue(q *resource.Quantity) resource.Quantity {
	if q == nil {
		return resource.Quantity{}
	}
	return q.DeepCopy()
}

func metricSpecV2ToV1(in autoscalingv2.MetricSpec) autoscalingv1.MetricSpec {
	out := autoscalingv1.MetricSpec{Type: autoscalingv1.MetricSourceType(in.Type)}
	if m := in.Object; m != nil {
		out.Object = &autoscalingv1.ObjectMetricSource{
			Target:       autoscalingv1.CrossVersionObjectReference(m.DescribedObject),
			MetricName:   m.Metric.Name,
			Selector:     m.Metric.Selector.DeepCopy(),
			TargetValue:  quantityValue(m.Target.Value),
			AverageValue: quantityPtr(m.Target.AverageValue),
		}
	}
	if m := in.Pods; m != nil {
		out.Pods = &autoscalingv1.PodsMetricSource{
			MetricName: m.Metric.Name, Selector: m.Metric.Selector.DeepCopy(), TargetAverageValue: quantityValue(m.Target.AverageValue),
		}
	}
	if m := in.Resource; m != nil {
		out.Resource = &autoscalingv1.ResourceMetricSource{
			Name: m.Name, TargetAverageUtilization: copyInt32(m.Target.AverageUtilization), TargetAverageValue: quantityPtr(m.Target.AverageValue),
		}
	}
	if m := in.ContainerResource; m != nil {
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricSource{
			Name: m.Name, Container: m.Container,
			TargetAverageUtilization: copyInt32(m.Target.AverageUtilization), TargetAverageValue: quantityPtr(m.Target.AverageValue),
		}
	}
	if m := in.External; m != nil {
		out.External = &autoscalingv1.ExternalMetricSource{
			MetricName: m.Metric.Name, MetricSelector: m.Metric.Selector.DeepCopy(),
			TargetValue: quantityPtr(m.Target.Value), TargetAverageValue: quantityPtr(m.Target.AverageValue),
		}
	}
	return out
}

func metricSpecV1ToV2(in autoscalingv1.MetricSpec) autoscalingv2.MetricSpec {
	out := autoscalingv2.MetricSpec{Type: autoscalingv2.MetricSourceType(in.Type)}
	if m := in.Object; m != nil {
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: quantityPtr(&m.TargetValue), AverageValue: quantityPtr(m.AverageValue)}
		if m.AverageValue != nil {
			// v1 always carries a value; a zero one next to an average
			// value stands for none.
			t.Type = autoscalingv2.AverageValueMetricType
			if m.TargetValue.IsZero() {
				t.Value = nil
			}
		}
		out.Object = &autoscalingv2.ObjectMetricSource{
			DescribedObject: autoscalingv2.CrossVersionObjectReference(m.Target),
			Metric:          autoscalingv2.MetricIdentifier{Name: m.MetricName, Selector: m.Selector.DeepCopy()},
			Target:          t,
		}
	}
	if m := in.Pods; m != nil {
		out.Pods = &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: m.MetricName, Selector: m.Selector.DeepCopy()},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: quantityPtr(&m.TargetAverageValue)},
		}
	}
	if m := in.Resource; m != nil {
		out.Resource = &autoscalingv2.ResourceMetricSource{Name: m.Name, Target: resourceTargetV1ToV2(m.TargetAverageUtilization, m.TargetAverageValue)}
	}
	if m := in.ContainerResource; m != nil {
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricSource{
			Name: m.Name, Container: m.Container, Target: resourceTargetV1ToV2(m.TargetAverageUtilization, m.TargetAverageValue),
		}
	}
	if m := in.External; m != nil {
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, Value: quantityPtr(m.TargetValue), AverageValue: quantityPtr(m.TargetAverageValue)}
		if m.TargetValue != nil {
			t.Type = autoscalingv2.ValueMetricType
		}
		out.External = &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: m.MetricName, Selector: m.MetricSelector.DeepCopy()},
			Target: t,
		}
	}
	return out
}

// resourceTargetV1ToV2 builds a Utilization target when a utilization is
// given, else an AverageValue one.
func resourceTargetV1ToV2(util *int32, avg *resource.Quantity) autoscalingv2.MetricTarget {
	t := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageUtilization: copyInt32(util), AverageValue: quantityPtr(avg)}
	if util != nil {
		t.Type = autoscalingv2.UtilizationMetricType
	}
	return t
}

func metricStatusesV2ToV1(in []autoscalingv2.MetricStatus) []autoscalingv1.MetricStatus {
	var out []autoscalingv1.MetricStatus
	for _, s := range in {
		o := autoscalingv1.MetricStatus{Type: autoscalingv1.MetricSourceType(s.Type)}
		if m := s.Object; m != nil {
			o.Object = &autoscalingv1.ObjectMetricStatus{
				Target: autoscalingv1.CrossVersionObjectReference(m.DescribedObject), MetricName: m.Metric.Name, Selector: m.Metric.Selector.DeepCopy(),
				CurrentValue: quantityValue(m.Current.Value), AverageValue: quantityPtr(m.Current.AverageValue),
			}
		}
		if m := s.Pods; m != nil {
			o.Pods = &autoscalingv1.PodsMetricStatus{MetricName: m.Metric.Name, Selector: m.Metric.Selector.DeepCopy(), CurrentAverageValue: quantityValue(m.Current.AverageValue)}
		}
		if m := s.Resource; m != nil {
			o.Resource = &autoscalingv1.ResourceMetricStatus{Name: m.Name, CurrentAverageUtilization: copyInt32(m.Current.AverageUtilization), CurrentAverageValue: quantityValue(m.Current.AverageValue)}
		}
		if m := s.ContainerResource; m != nil {
			o.ContainerResource = &autoscalingv1.ContainerResourceMetricStatus{Name: m.Name, Container: m.Container,
				CurrentAverageUtilization: copyInt32(m.Current.AverageUtilization), CurrentAverageValue: quantityValue(m.Current.AverageValue)}
		}
		if m := s.External; m != nil {
			o.External = &autoscalingv1.ExternalMetricStatus{MetricName: m.Metric.Name, MetricSelector: m.Metric.Selector.DeepCopy(),
				CurrentValue: quantityValue(m.Current.Value), CurrentAverageValue: quantityPtr(m.Current.AverageValue)}
		}
		out = append(out, o)
	}
	return out
}

func metricStatusesV1ToV2(in []autoscalingv1.MetricStatus) []autoscalingv2.MetricStatus {
	var out []autoscalingv2.MetricStatus
	for _, s := range in {
		o := autoscalingv2.MetricStatus{Type: autoscalingv2.MetricSourceType(s.Type)}
		if m := s.Object; m != nil {
			o.Object = &autoscalingv2.ObjectMetricStatus{
				DescribedObject: autoscalingv2.CrossVersionObjectReference(m.Target),
				Metric:          autoscalingv2.MetricIdentifier{Name: m.MetricName, Selector: m.Selector.DeepCopy()},
				Current:         autoscalingv2.MetricValueStatus{Value: quantityPtr(&m.CurrentValue), AverageValue: quantityPtr(m.AverageValue)},
			}
		}
		if m := s.Pods; m != nil {
			o.Pods = &autoscalingv2.PodsMetricStatus{
				Metric:  autoscalingv2.MetricIdentifier{Name: m.MetricName, Selector: m.Selector.DeepCopy()},
				Current: autoscalingv2.MetricValueStatus{AverageValue: quantityPtr(&m.CurrentAverageValue)},
			}
		}
		if m := s.Resource; m != nil {
			o.Resource = &autoscalingv2.ResourceMetricStatus{Name: m.Name,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: copyInt32(m.CurrentAverageUtilization), AverageValue: quantityPtr(&m.CurrentAverageValue)}}
		}
		if m := s.ContainerResource; m != nil {
			o.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{Name: m.Name, Container: m.Container,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: copyInt32(m.CurrentAverageUtilization), AverageValue: quantityPtr(&m.CurrentAverageValue)}}
		}
		if m := s.External; m != nil {
			o.External = &autoscalingv2.ExternalMetricStatus{
				Metric:  autoscalingv2.MetricIdentifier{Name: m.MetricName, Selector: m.MetricSelector.DeepCopy()},
				Current: autoscalingv2.MetricValueStatus{Value: quantityPtr(&m.CurrentValue), AverageValue: quantityPtr(m.CurrentAverageValue)},
			}
		}
		out = append(out, o)
	}
	return out
}
