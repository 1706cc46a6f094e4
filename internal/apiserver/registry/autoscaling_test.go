package registry

import (
	"encoding/json"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func wlHPA() *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: wlMeta("web"),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
		},
	}
}

func TestHPADefaults(t *testing.T) {
	h := wlHPA()
	defaultHPA(h)
	if *h.Spec.MinReplicas != 1 {
		t.Errorf("minReplicas = %d", *h.Spec.MinReplicas)
	}
	if want := []autoscalingv2.MetricSpec{hpaCPUUtilizationMetric(80)}; !equality.Semantic.DeepEqual(h.Spec.Metrics, want) {
		t.Errorf("metrics = %+v", h.Spec.Metrics)
	}
	if h.Spec.Behavior != nil {
		t.Errorf("behavior defaulted without being given")
	}

	// A partial behavior is completed from the documented defaults.
	b := wlHPA()
	b.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To[int32](60)},
	}
	defaultHPA(b)
	wantDown := hpaDefaultScaleDown()
	wantDown.StabilizationWindowSeconds = ptr.To[int32](60)
	if !equality.Semantic.DeepEqual(b.Spec.Behavior.ScaleDown, wantDown) {
		t.Errorf("scaleDown = %+v", b.Spec.Behavior.ScaleDown)
	}
	wantUp := &autoscalingv2.HPAScalingRules{
		StabilizationWindowSeconds: ptr.To[int32](0),
		SelectPolicy:               ptr.To(autoscalingv2.MaxChangePolicySelect),
		Policies: []autoscalingv2.HPAScalingPolicy{
			{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
			{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
		},
	}
	if !equality.Semantic.DeepEqual(b.Spec.Behavior.ScaleUp, wantUp) {
		t.Errorf("scaleUp = %+v", b.Spec.Behavior.ScaleUp)
	}
	if *wantDown.StabilizationWindowSeconds != 60 || *hpaDefaultScaleDown().StabilizationWindowSeconds != 300 {
		t.Errorf("default scale-down window changed")
	}
}

func TestHPAValidation(t *testing.T) {
	q := func(s string) *resource.Quantity { return ptr.To(resource.MustParse(s)) }
	cases := []struct {
		name   string
		mutate func(h *autoscalingv2.HorizontalPodAutoscaler)
		want   []string
	}{
		{name: "valid", mutate: func(*autoscalingv2.HorizontalPodAutoscaler) {}},
		{name: "valid mixed metrics", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = append(h.Spec.Metrics,
				autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "qps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("10")}}},
				autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "queue"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: q("30")}}},
				autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
					Name: corev1.ResourceMemory, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("100Mi")}}},
			)
		}},
		{name: "minReplicas 0", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr.To[int32](0) },
			want: []string{"invalid:spec.minReplicas"}},
		{name: "max below min", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr.To[int32](11) },
			want: []string{"invalid:spec.maxReplicas"}},
		{name: "max 0", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 0 },
			want: []string{"invalid:spec.maxReplicas", "invalid:spec.maxReplicas"}},
		{name: "target ref", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{Name: "a/b"}
		}, want: []string{"required:spec.scaleTargetRef.kind", "invalid:spec.scaleTargetRef.name"}},
		{name: "missing source", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType}}
		}, want: []string{"required:spec.metrics[0].pods"}},
		{name: "two sources", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics[0].External = &autoscalingv2.ExternalMetricSource{}
		}, want: []string{"forbidden:spec.metrics[0].external"}},
		{name: "unknown type", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.Metrics[0].Type = "Magic" },
			want: []string{"notsupported:spec.metrics[0].type"}},
		{name: "utilization 0 and value both", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics[0].Resource.Target.AverageUtilization = ptr.To[int32](0)
			h.Spec.Metrics[0].Resource.Target.AverageValue = q("1")
		}, want: []string{"invalid:spec.metrics[0].resource.target.averageUtilization", "forbidden:spec.metrics[0].resource.target.averageValue"}},
		{name: "resource without target", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics[0].Resource.Target = autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType}
		}, want: []string{"required:spec.metrics[0].resource.target.averageUtilization"}},
		{name: "pods negative value", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "qps"}, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: q("-1")}}}}
		}, want: []string{"invalid:spec.metrics[0].pods.target.averageValue"}},
		{name: "container resource without container", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}}}}
		}, want: []string{"required:spec.metrics[0].containerResource.container"}},
		{name: "bad behavior", mutate: func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &autoscalingv2.HPAScalingRules{
				StabilizationWindowSeconds: ptr.To[int32](4000),
				SelectPolicy:               ptr.To(autoscalingv2.ScalingPolicySelect("Avg")),
				Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: "Nodes", Value: 0, PeriodSeconds: 2000}},
			}, ScaleDown: &autoscalingv2.HPAScalingRules{}}
		}, want: []string{
			"invalid:spec.behavior.scaleUp.stabilizationWindowSeconds", "notsupported:spec.behavior.scaleUp.selectPolicy",
			"notsupported:spec.behavior.scaleUp.policies[0].type", "invalid:spec.behavior.scaleUp.policies[0].value",
			"invalid:spec.behavior.scaleUp.policies[0].periodSeconds", "required:spec.behavior.scaleDown.policies",
		}},
	}
	s := hpaStrategy()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := wlHPA()
			s.Default(h)
			tc.mutate(h)
			wlCheckErrs(t, s.Validate(h), tc.want...)
		})
	}
}

// wlFullHPA is an HPA using every part the v1 view cannot hold directly.
func wlFullHPA() *autoscalingv2.HorizontalPodAutoscaler {
	h := wlHPA()
	h.Annotations = map[string]string{"team": "web"}
	h.Spec.Metrics = []autoscalingv2.MetricSpec{
		{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "qps", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"v": "1"}}},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("10"))}}},
		{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
			DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "main"},
			Metric:          autoscalingv2.MetricIdentifier{Name: "rps"},
			Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr.To(resource.MustParse("2k"))}}},
		{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: "queue"},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ptr.To(resource.MustParse("30"))}}},
		hpaCPUUtilizationMetric(70),
	}
	h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: hpaDefaultScaleUp(), ScaleDown: hpaDefaultScaleDown()}
	defaultHPA(h)
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
		ObservedGeneration: ptr.To[int64](2), CurrentReplicas: 3, DesiredReplicas: 4,
		CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
			Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr.To[int32](65), AverageValue: ptr.To(resource.MustParse("130m"))}}}},
		Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale"}},
	}
	return h
}

func TestHPAConversionRoundTrip(t *testing.T) {
	h := wlFullHPA()
	v1 := HPAV2ToV1(h)
	if v1.Spec.TargetCPUUtilizationPercentage == nil || *v1.Spec.TargetCPUUtilizationPercentage != 70 {
		t.Errorf("targetCPUUtilizationPercentage = %v", v1.Spec.TargetCPUUtilizationPercentage)
	}
	if v1.Status.CurrentCPUUtilizationPercentage == nil || *v1.Status.CurrentCPUUtilizationPercentage != 65 {
		t.Errorf("currentCPUUtilizationPercentage = %v", v1.Status.CurrentCPUUtilizationPercentage)
	}
	var other []autoscalingv1.MetricSpec
	if err := json.Unmarshal([]byte(v1.Annotations[hpaMetricsAnnotation]), &other); err != nil || len(other) != 3 || other[0].Pods.MetricName != "qps" {
		t.Errorf("metrics annotation = %q (%v)", v1.Annotations[hpaMetricsAnnotation], err)
	}
	for _, key := range hpaRoundTripAnnotations() {
		if _, ok := v1.Annotations[key]; !ok {
			t.Errorf("annotation %s missing", key)
		}
	}
	if h.Annotations[hpaMetricsAnnotation] != "" {
		t.Errorf("conversion changed its input's annotations")
	}
	wlCheckErrs(t, hpaV1Strategy().Validate(v1))

	back := HPAV1ToV2(v1)
	if !equality.Semantic.DeepEqual(back, h) {
		a, _ := json.Marshal(back)
		b, _ := json.Marshal(h)
		t.Errorf("round trip differs:\n got %s\nwant %s", a, b)
	}
}

func TestHPAV1ToV2Plain(t *testing.T) {
	v1 := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: wlMeta("web"),
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
			MaxReplicas:    5,
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentCPUUtilizationPercentage: ptr.To[int32](40)},
	}
	v2 := HPAV1ToV2(v1)
	// No target at all: the v1 implicit 80% CPU becomes explicit.
	if !equality.Semantic.DeepEqual(v2.Spec.Metrics, []autoscalingv2.MetricSpec{hpaCPUUtilizationMetric(80)}) {
		t.Errorf("metrics = %+v", v2.Spec.Metrics)
	}
	if len(v2.Status.CurrentMetrics) != 1 || *v2.Status.CurrentMetrics[0].Resource.Current.AverageUtilization != 40 {
		t.Errorf("current metrics = %+v", v2.Status.CurrentMetrics)
	}
	v1.Spec.TargetCPUUtilizationPercentage = ptr.To[int32](50)
	if got := HPAV1ToV2(v1).Spec.Metrics; !equality.Semantic.DeepEqual(got, []autoscalingv2.MetricSpec{hpaCPUUtilizationMetric(50)}) {
		t.Errorf("metrics = %+v", got)
	}
	back := HPAV2ToV1(HPAV1ToV2(v1))
	if *back.Spec.TargetCPUUtilizationPercentage != 50 || len(back.Annotations) != 1 {
		t.Errorf("v1 round trip: target %v annotations %v", back.Spec.TargetCPUUtilizationPercentage, back.Annotations)
	}
}

func TestHPAV1Validation(t *testing.T) {
	s := hpaV1Strategy()
	v1 := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: wlMeta("web"),
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef:                 autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"},
			MaxReplicas:                    5,
			TargetCPUUtilizationPercentage: ptr.To[int32](0),
		},
	}
	s.Default(v1)
	if *v1.Spec.MinReplicas != 1 {
		t.Errorf("minReplicas not defaulted")
	}
	v1.Annotations = map[string]string{hpaMetricsAnnotation: "{not json"}
	wlCheckErrs(t, s.Validate(v1), "invalid:spec.metrics[0].resource.target.averageUtilization",
		"invalid:metadata.annotations[autoscaling.alpha.kubernetes.io/metrics]")
}
