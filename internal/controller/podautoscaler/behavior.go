package podautoscaler

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/utils/ptr"
)

// recommendation is one past replica proposal, for the stabilization
// windows.
type recommendation struct {
	at       time.Time
	replicas int32
}

// scaleEvent is one past rescale, for the scaling policies' periods:
// change is positive when scaling up, negative when scaling down.
type scaleEvent struct {
	at     time.Time
	change int32
}

// history is what the controller remembers of one HPA between syncs.
type history struct {
	recommendations []recommendation
	events          []scaleEvent
}

// decision is the outcome of applying the behavior and the bounds to a
// proposal: the replica count and the reasons for the AbleToScale and
// ScalingLimited conditions.
type decision struct {
	replicas int32
	// ableReason/ableMessage: ReadyForNewScale, ScaleUpStabilized or
	// ScaleDownStabilized.
	ableReason, ableMessage string
	// limitReason/limitMessage: empty when within range, else
	// TooManyReplicas, TooFewReplicas, ScaleUpLimit or ScaleDownLimit.
	limitReason, limitMessage string
}

// defaultBehavior fills the parts of b left unset with upstream's
// defaults: scale up by at most 100% or 4 pods per 15 s whichever is
// more, without stabilization; scale down by up to 100% per 15 s after a
// 300 s stabilization window.
func defaultBehavior(b *autoscalingv2.HorizontalPodAutoscalerBehavior) autoscalingv2.HorizontalPodAutoscalerBehavior {
	out := autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr.To[int32](0),
			SelectPolicy:               ptr.To(autoscalingv2.MaxChangePolicySelect),
			Policies: []autoscalingv2.HPAScalingPolicy{
				{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
				{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15},
			},
		},
		ScaleDown: &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: ptr.To[int32](300),
			SelectPolicy:               ptr.To(autoscalingv2.MaxChangePolicySelect),
			Policies:                   []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}},
		},
	}
	if b == nil {
		return out
	}
	out.ScaleUp = mergeRules(b.ScaleUp, out.ScaleUp)
	out.ScaleDown = mergeRules(b.ScaleDown, out.ScaleDown)
	return out
}

func mergeRules(r, def *autoscalingv2.HPAScalingRules) *autoscalingv2.HPAScalingRules {
	if r == nil {
		return def
	}
	out := r.DeepCopy()
	if out.StabilizationWindowSeconds == nil {
		out.StabilizationWindowSeconds = def.StabilizationWindowSeconds
	}
	if out.SelectPolicy == nil {
		out.SelectPolicy = def.SelectPolicy
	}
	if len(out.Policies) == 0 {
		out.Policies = def.Policies
	}
	return out
}

// applyBehavior stabilizes the proposal over the windows, limits the
// change by the policies and clamps to [min, max]. It returns the decision
// and the history with the proposal recorded and expired entries dropped
// (the caller records a scale event if it rescales).
func applyBehavior(now time.Time, current, proposal, minR, maxR int32, b autoscalingv2.HorizontalPodAutoscalerBehavior, h history) (decision, history) {
	upWindow := time.Duration(ptr.Deref(b.ScaleUp.StabilizationWindowSeconds, 0)) * time.Second
	downWindow := time.Duration(ptr.Deref(b.ScaleDown.StabilizationWindowSeconds, 0)) * time.Second
	upRec, downRec := proposal, proposal
	var kept []recommendation
	for _, r := range h.recommendations {
		if r.at.After(now.Add(-upWindow)) {
			upRec = min(upRec, r.replicas)
		}
		if r.at.After(now.Add(-downWindow)) {
			downRec = max(downRec, r.replicas)
		}
		if r.at.After(now.Add(-max(upWindow, downWindow))) {
			kept = append(kept, r)
		}
	}
	h.recommendations = append(kept, recommendation{at: now, replicas: proposal})

	d := decision{replicas: current, ableReason: "ReadyForNewScale", ableMessage: "recommended size matches current size"}
	if d.replicas < upRec {
		d.replicas = upRec
	}
	if d.replicas > downRec {
		d.replicas = downRec
	}
	switch {
	case d.replicas != proposal && proposal > current:
		d.ableReason, d.ableMessage = "ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation"
	case d.replicas != proposal:
		d.ableReason, d.ableMessage = "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"
	}
	h.events = dropOldEvents(now, h.events, b)
	d.replicas, d.limitReason, d.limitMessage = limitRate(now, current, d.replicas, minR, maxR, b, h.events)
	return d, h
}

// limitRate bounds desired by the scaling policies and by [min, max].
func limitRate(now time.Time, current, desired, minR, maxR int32, b autoscalingv2.HorizontalPodAutoscalerBehavior, events []scaleEvent) (int32, string, string) {
	switch {
	case desired > current:
		limit := max(scaleUpLimit(now, current, b.ScaleUp, events), current)
		allowed, reason, msg := maxR, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
		if limit < maxR {
			allowed, reason, msg = limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
		}
		if desired > allowed {
			return allowed, reason, msg
		}
	case desired < current:
		limit := min(scaleDownLimit(now, current, b.ScaleDown, events), current)
		allowed, reason, msg := minR, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
		if limit > minR {
			allowed, reason, msg = limit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"
		}
		if desired < allowed {
			return allowed, reason, msg
		}
	}
	return desired, "", ""
}

// periodStart is the replica count at the start of a policy's period:
// the current count with the changes made during the period undone.
func periodStart(now time.Time, current int32, periodSeconds int32, events []scaleEvent) int32 {
	start := current
	for _, e := range events {
		if e.at.After(now.Add(-time.Duration(periodSeconds) * time.Second)) {
			start -= e.change
		}
	}
	return start
}

func scaleUpLimit(now time.Time, current int32, r *autoscalingv2.HPAScalingRules, events []scaleEvent) int32 {
	if ptr.Deref(r.SelectPolicy, autoscalingv2.MaxChangePolicySelect) == autoscalingv2.DisabledPolicySelect {
		return current
	}
	pickMin := ptr.Deref(r.SelectPolicy, "") == autoscalingv2.MinChangePolicySelect
	var out int32
	for i, p := range r.Policies {
		start := periodStart(now, current, p.PeriodSeconds, events)
		proposed := start + p.Value
		if p.Type == autoscalingv2.PercentScalingPolicy {
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		if i == 0 || (pickMin && proposed < out) || (!pickMin && proposed > out) {
			out = proposed
		}
	}
	return out
}

func scaleDownLimit(now time.Time, current int32, r *autoscalingv2.HPAScalingRules, events []scaleEvent) int32 {
	if ptr.Deref(r.SelectPolicy, autoscalingv2.MaxChangePolicySelect) == autoscalingv2.DisabledPolicySelect {
		return current
	}
	pickMin := ptr.Deref(r.SelectPolicy, "") == autoscalingv2.MinChangePolicySelect
	var out int32
	for i, p := range r.Policies {
		start := periodStart(now, current, p.PeriodSeconds, events)
		proposed := start - p.Value
		if p.Type == autoscalingv2.PercentScalingPolicy {
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		// The Max policy allows the biggest change, i.e. the lowest count.
		if i == 0 || (pickMin && proposed > out) || (!pickMin && proposed < out) {
			out = proposed
		}
	}
	return out
}

// dropOldEvents keeps the events still inside the longest policy period.
func dropOldEvents(now time.Time, events []scaleEvent, b autoscalingv2.HorizontalPodAutoscalerBehavior) []scaleEvent {
	var longest int32
	for _, r := range []*autoscalingv2.HPAScalingRules{b.ScaleUp, b.ScaleDown} {
		for _, p := range r.Policies {
			longest = max(longest, p.PeriodSeconds)
		}
	}
	var kept []scaleEvent
	for _, e := range events {
		if e.at.After(now.Add(-time.Duration(longest) * time.Second)) {
			kept = append(kept, e)
		}
	}
	return kept
}
