package podautoscaler

import (
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/utils/ptr"
)

// ok, miss and unready build samples with usage and request in millicores.
func ok(usage, request int64) podSample {
	return podSample{state: podOK, usage: usage, request: request}
}
func miss(request int64) podSample { return podSample{state: podMissing, request: request} }
func unready(usage, request int64) podSample {
	return podSample{state: podUnready, usage: usage, request: request}
}

func TestComputeReplicas(t *testing.T) {
	util50 := metricTarget{utilization: true, value: 50}
	for _, tc := range []struct {
		name     string
		current  int32
		samples  []podSample
		target   metricTarget
		want     int32
		wantUtil int32
		wantErr  bool
	}{
		{"at target", 3, []podSample{ok(500, 1000), ok(500, 1000), ok(500, 1000)}, util50, 3, 50, false},
		{"within tolerance up", 3, []podSample{ok(540, 1000), ok(540, 1000), ok(540, 1000)}, util50, 3, 54, false},
		{"double usage doubles", 3, []podSample{ok(1000, 1000), ok(1000, 1000), ok(1000, 1000)}, util50, 6, 100, false},
		{"rounds up", 3, []podSample{ok(600, 1000), ok(600, 1000), ok(600, 1000)}, util50, 4, 60, false},
		{"scale down", 4, []podSample{ok(100, 1000), ok(100, 1000), ok(100, 1000), ok(100, 1000)}, util50, 1, 10, false},
		// Missing pods count at 100% of their request when scaling down:
		// ratio (100+100+1000)/3000/0.5 = 0.8 → ceil(2.4) = 3.
		{"missing on scale down", 3, []podSample{ok(100, 1000), ok(100, 1000), miss(1000)}, util50, 3, 10, false},
		{"missing on deep scale down", 4, []podSample{ok(0, 1000), ok(0, 1000), ok(0, 1000), miss(1000)}, util50, 2, 0, false},
		// Missing pods count as idle when scaling up: (1000+1000)/3000/0.5 = 1.33 → 4.
		{"missing on scale up", 3, []podSample{ok(1000, 1000), ok(1000, 1000), miss(1000)}, util50, 4, 100, false},
		// Unready pods count as idle when scaling up: 2000/4000/0.5 = 1 → keep.
		{"unready damp scale up", 4, []podSample{ok(1000, 1000), ok(1000, 1000), unready(900, 1000), unready(900, 1000)}, util50, 4, 100, false},
		// Unready pods are left out when scaling down.
		{"unready ignored on scale down", 4, []podSample{ok(100, 1000), ok(100, 1000), unready(900, 1000)}, util50, 1, 10, false},
		{"ignored pods", 2, []podSample{ok(1000, 1000), {state: podIgnored}}, util50, 2, 100, false},
		{"average value", 2, []podSample{ok(400, 0), ok(400, 0)}, metricTarget{value: 200}, 4, 0, false},
		{"average value missing on scale down", 2, []podSample{ok(100, 0), miss(0)}, metricTarget{value: 200}, 2, 0, false},
		{"no pods", 2, []podSample{{state: podIgnored}}, util50, 0, 0, true},
		{"no ready pods", 2, []podSample{miss(1000)}, util50, 0, 0, true},
		{"bad target", 2, []podSample{ok(1, 1)}, metricTarget{utilization: true}, 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := computeReplicas(tc.current, tc.samples, tc.target, DefaultTolerance)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if got.replicas != tc.want || got.utilization != tc.wantUtil {
				t.Errorf("replicas %d utilization %d, want %d %d", got.replicas, got.utilization, tc.want, tc.wantUtil)
			}
		})
	}
}

func TestApplyBehavior(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ago := func(s int) time.Time { return now.Add(-time.Duration(s) * time.Second) }
	pods := func(v, period int32) autoscalingv2.HPAScalingPolicy {
		return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: v, PeriodSeconds: period}
	}
	percent := func(v, period int32) autoscalingv2.HPAScalingPolicy {
		return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: v, PeriodSeconds: period}
	}
	rules := func(window int32, sel autoscalingv2.ScalingPolicySelect, p ...autoscalingv2.HPAScalingPolicy) *autoscalingv2.HPAScalingRules {
		return &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr.To(window), SelectPolicy: ptr.To(sel), Policies: p}
	}
	for _, tc := range []struct {
		name                  string
		current, proposal     int32
		minR, maxR            int32
		behavior              *autoscalingv2.HorizontalPodAutoscalerBehavior
		hist                  history
		want                  int32
		wantAble, wantLimited string
	}{
		{"defaults scale up by 100% or 4", 2, 20, 1, 100, nil, history{}, 6, "ReadyForNewScale", "ScaleUpLimit"},
		{"defaults scale up 100% of 10", 10, 50, 1, 100, nil, history{}, 20, "ReadyForNewScale", "ScaleUpLimit"},
		{"max bound", 5, 8, 1, 6, nil, history{}, 6, "ReadyForNewScale", "TooManyReplicas"},
		{"min bound", 5, 1, 3, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: rules(0, autoscalingv2.MaxChangePolicySelect, percent(100, 15))}, history{}, 3, "ReadyForNewScale", "TooFewReplicas"},
		{"down stabilized by default window", 5, 2, 1, 10, nil,
			history{recommendations: []recommendation{{ago(100), 4}, {ago(400), 5}}}, 4, "ScaleDownStabilized", ""},
		{"down after the window", 5, 2, 1, 10, nil,
			history{recommendations: []recommendation{{ago(301), 5}}}, 2, "ReadyForNewScale", ""},
		{"up stabilization window", 2, 6, 1, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(60, autoscalingv2.MaxChangePolicySelect, pods(10, 15))},
			history{recommendations: []recommendation{{ago(30), 3}}}, 3, "ScaleUpStabilized", ""},
		{"pods policy with recent event", 6, 20, 1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(0, autoscalingv2.MaxChangePolicySelect, pods(4, 60))},
			history{events: []scaleEvent{{ago(30), 3}}}, 7, "ReadyForNewScale", "ScaleUpLimit"},
		{"min select", 10, 100, 1, 100, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(0, autoscalingv2.MinChangePolicySelect, pods(4, 15), percent(100, 15))},
			history{}, 14, "ReadyForNewScale", "ScaleUpLimit"},
		{"up disabled", 3, 9, 1, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(0, autoscalingv2.DisabledPolicySelect)},
			history{}, 3, "ReadyForNewScale", "ScaleUpLimit"},
		{"down percent floor", 10, 1, 1, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: rules(0, autoscalingv2.MaxChangePolicySelect, percent(25, 60))},
			history{}, 7, "ReadyForNewScale", "ScaleDownLimit"},
		{"down pods policy", 10, 1, 1, 10, &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: rules(0, autoscalingv2.MaxChangePolicySelect, pods(2, 60), percent(10, 60))},
			history{events: []scaleEvent{{ago(10), -1}}}, 9, "ReadyForNewScale", "ScaleDownLimit"},
		{"no change", 4, 4, 1, 10, nil, history{}, 4, "ReadyForNewScale", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, h := applyBehavior(now, tc.current, tc.proposal, tc.minR, tc.maxR, defaultBehavior(tc.behavior), tc.hist)
			if d.replicas != tc.want || d.ableReason != tc.wantAble || d.limitReason != tc.wantLimited {
				t.Errorf("got %d %q %q, want %d %q %q", d.replicas, d.ableReason, d.limitReason, tc.want, tc.wantAble, tc.wantLimited)
			}
			if last := h.recommendations[len(h.recommendations)-1]; last.replicas != tc.proposal || !last.at.Equal(now) {
				t.Errorf("last recommendation %+v, want %d now", last, tc.proposal)
			}
		})
	}
}
