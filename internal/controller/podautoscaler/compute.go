package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

// resourceMetric is a Resource or ContainerResource metric spec reduced to
// what the computation needs.
type resourceMetric struct {
	name      corev1.ResourceName
	container string // empty for a whole-pod Resource metric
	target    autoscalingv2.MetricTarget
}

// computeMetrics proposes a replica count from every metric of the HPA
// (the highest proposal wins) and returns the name of the winning metric
// for messages and the current metric values for the status. When some
// metrics fail it still scales up on the valid ones, but never down.
func (c *Controller) computeMetrics(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, sc *autoscalingv1.Scale, now time.Time) (int32, string, []autoscalingv2.MetricStatus, error) {
	st := &hpa.Status
	sel, err := selectorOf(sc)
	if err != nil {
		c.recorder.Event(hpa, corev1.EventTypeWarning, "InvalidSelector", err.Error())
		setCondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", now, "the HPA target's scale is missing a selector")
		return 0, "", nil, err
	}
	pods, err := c.pods.Pods(hpa.Namespace).List(sel)
	if err != nil {
		return 0, "", nil, fmt.Errorf("listing pods: %w", err)
	}
	var usage map[string]PodMetrics
	var usageErr error
	fetched := false
	var (
		proposal   int32
		metricName string
		statuses   []autoscalingv2.MetricStatus
		invalid    int
		firstErr   error
	)
	for _, spec := range hpa.Spec.Metrics {
		m, reason, err := resourceMetricOf(spec)
		if err == nil && !fetched {
			usage, usageErr = c.metrics.PodMetrics(ctx, hpa.Namespace, sel)
			fetched = true
		}
		if err == nil {
			err = usageErr
		}
		var replicas int32
		var status autoscalingv2.MetricStatus
		if err == nil {
			replicas, status, err = c.computeResource(m, pods, usage, sc.Spec.Replicas)
		}
		if err != nil {
			invalid++
			if firstErr == nil {
				firstErr = err
			}
			c.recorder.Event(hpa, corev1.EventTypeWarning, reason, err.Error())
			setCondition(st, autoscalingv2.ScalingActive, corev1.ConditionFalse, reason, now, "the HPA was unable to compute the replica count: %v", err)
			continue
		}
		statuses = append(statuses, status)
		if metricName == "" || replicas > proposal {
			proposal, metricName = replicas, m.describe()
		}
	}
	if n := len(hpa.Spec.Metrics); invalid == n || (invalid > 0 && proposal < sc.Spec.Replicas) {
		if firstErr == nil {
			firstErr = errors.New("no metrics")
		}
		return 0, "", statuses, fmt.Errorf("invalid metrics (%d invalid out of %d), first error is: %w", invalid, n, firstErr)
	}
	return proposal, metricName, statuses, nil
}

// resourceMetricOf reads a Resource or ContainerResource spec; it also
// returns the condition reason used when the metric fails.
func resourceMetricOf(spec autoscalingv2.MetricSpec) (resourceMetric, string, error) {
	switch {
	case spec.Type == autoscalingv2.ResourceMetricSourceType && spec.Resource != nil:
		return resourceMetric{name: spec.Resource.Name, target: spec.Resource.Target}, "FailedGetResourceMetric", nil
	case spec.Type == autoscalingv2.ContainerResourceMetricSourceType && spec.ContainerResource != nil:
		r := spec.ContainerResource
		return resourceMetric{name: r.Name, container: r.Container, target: r.Target}, "FailedGetContainerResourceMetric", nil
	}
	return resourceMetric{}, fmt.Sprintf("FailedGet%sMetric", spec.Type), fmt.Errorf("metric type %q is not supported: Skiff serves resource metrics only", spec.Type)
}

func (m resourceMetric) describe() string {
	kind := "resource"
	if m.container != "" {
		kind = "container resource"
	}
	if m.target.Type == autoscalingv2.UtilizationMetricType {
		return fmt.Sprintf("%s %s utilization (percentage of request)", m.name, kind)
	}
	return fmt.Sprintf("%s %s", m.name, kind)
}

// computeResource proposes replicas for one resource metric and returns
// its current value for the status.
func (c *Controller) computeResource(m resourceMetric, pods []*corev1.Pod, usage map[string]PodMetrics, current int32) (int32, autoscalingv2.MetricStatus, error) {
	var t metricTarget
	switch {
	case m.target.Type == autoscalingv2.UtilizationMetricType && m.target.AverageUtilization != nil:
		t = metricTarget{utilization: true, value: int64(*m.target.AverageUtilization)}
	case m.target.Type == autoscalingv2.AverageValueMetricType && m.target.AverageValue != nil:
		t = metricTarget{value: m.target.AverageValue.MilliValue()}
	default:
		return 0, autoscalingv2.MetricStatus{}, fmt.Errorf("invalid %s target: a resource metric needs averageUtilization or averageValue", m.name)
	}
	samples := make([]podSample, 0, len(pods))
	for _, p := range pods {
		s, err := sampleOf(p, m, usage)
		if err != nil {
			return 0, autoscalingv2.MetricStatus{}, err
		}
		samples = append(samples, s)
	}
	res, err := computeReplicas(current, samples, t, c.tolerance)
	if err != nil {
		return 0, autoscalingv2.MetricStatus{}, fmt.Errorf("failed to get %s utilization: %w", m.name, err)
	}
	cur := autoscalingv2.MetricValueStatus{AverageValue: resource.NewMilliQuantity(res.average, resource.DecimalSI)}
	if m.name == corev1.ResourceMemory {
		cur.AverageValue = resource.NewQuantity(res.average/1000, resource.BinarySI)
	}
	if t.utilization {
		cur.AverageUtilization = ptr.To(res.utilization)
	}
	st := autoscalingv2.MetricStatus{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: m.name, Current: cur}}
	if m.container != "" {
		st = autoscalingv2.MetricStatus{Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricStatus{Name: m.name, Container: m.container, Current: cur}}
	}
	return res.replicas, st, nil
}

// sampleOf classifies one pod and reads its request and usage of the
// metric's resource.
func sampleOf(p *corev1.Pod, m resourceMetric, usage map[string]PodMetrics) (podSample, error) {
	if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded {
		return podSample{state: podIgnored}, nil
	}
	var s podSample
	found := false
	for _, ctr := range p.Spec.Containers {
		if m.container != "" && ctr.Name != m.container {
			continue
		}
		found = true
		req, ok := ctr.Resources.Requests[m.name]
		if !ok {
			return s, fmt.Errorf("missing request for %s in container %s of Pod %s", m.name, ctr.Name, p.Name)
		}
		s.request += req.MilliValue()
	}
	if !found {
		return s, fmt.Errorf("container %s not present in Pod %s", m.container, p.Name)
	}
	pm, hasMetric := usage[p.Name]
	for name, u := range pm.Containers {
		if m.container != "" && name != m.container {
			continue
		}
		if q, ok := u[m.name]; ok {
			s.usage += q.MilliValue()
		} else if m.container != "" {
			hasMetric = false
		}
	}
	if m.container != "" && pm.Containers[m.container] == nil {
		hasMetric = false
	}
	switch {
	case p.Status.Phase == corev1.PodPending:
		s.state = podUnready
	case !hasMetric:
		s.state = podMissing
	case m.name == corev1.ResourceCPU && !isReady(p):
		s.state = podUnready
	}
	return s, nil
}

func isReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
