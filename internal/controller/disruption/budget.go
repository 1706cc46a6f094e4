// Package disruption computes PodDisruptionBudget status: how many of the
// selected pods are healthy, how many must stay healthy, and so how many
// voluntary disruptions (evictions) are allowed right now. The API
// server's eviction subresource reads disruptionsAllowed and records the
// pods it evicts in status.disruptedPods.
//
// budget.go is the pure part; controller.go reads informers and writes
// status.
package disruption

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// DeletionTimeout is how long an evicted pod stays in disruptedPods
// waiting for its deletion to be observed (upstream: 2 minutes).
const DeletionTimeout = 2 * time.Minute

// Counts are the numbers a budget's status is computed from.
type Counts struct {
	// Expected is the number of pods the budget's selector should cover:
	// the replicas of their controllers when the budget is relative
	// (percentages, maxUnavailable), else the pods found.
	Expected int32
	// Healthy is the number of ready pods not being deleted and not just
	// evicted.
	Healthy int32
}

// NeedsScale reports whether a budget's desired count depends on the
// controllers' replicas rather than on the pods found.
func NeedsScale(pdb *policyv1.PodDisruptionBudget) bool {
	return pdb.Spec.MaxUnavailable != nil || pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.String
}

// DesiredHealthy is how many pods the budget keeps healthy.
func DesiredHealthy(pdb *policyv1.PodDisruptionBudget, expected int32) (int32, error) {
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(expected), true)
		if err != nil {
			return 0, fmt.Errorf("maxUnavailable: %w", err)
		}
		return max(expected-int32(v), 0), nil
	case pdb.Spec.MinAvailable != nil:
		v, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(expected), true)
		if err != nil {
			return 0, fmt.Errorf("minAvailable: %w", err)
		}
		return int32(min(v, math.MaxInt32)), nil
	}
	return expected, nil
}

// Status computes the budget's new status from the counts at now,
// dropping disruptedPods entries that are settled (pod gone, being
// deleted) or timed out.
func Status(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, expected int32, now time.Time) (policyv1.PodDisruptionBudgetStatus, error) {
	st := *pdb.Status.DeepCopy()
	st.ObservedGeneration = pdb.Generation
	disrupted := map[string]metav1.Time{}
	byName := map[string]*corev1.Pod{}
	for _, p := range pods {
		byName[p.Name] = p
	}
	for name, at := range pdb.Status.DisruptedPods {
		p, ok := byName[name]
		if ok && p.DeletionTimestamp == nil && now.Sub(at.Time) < DeletionTimeout {
			disrupted[name] = at
		}
	}
	var healthy int32
	for _, p := range pods {
		if _, evicted := disrupted[p.Name]; evicted || p.DeletionTimestamp != nil {
			continue
		}
		if ready(p) {
			healthy++
		}
	}
	desired, err := DesiredHealthy(pdb, expected)
	if err != nil {
		return st, err
	}
	st.DisruptedPods = disrupted
	if len(disrupted) == 0 {
		st.DisruptedPods = nil
	}
	st.ExpectedPods, st.CurrentHealthy, st.DesiredHealthy = expected, healthy, desired
	st.DisruptionsAllowed = max(healthy-desired, 0)
	cond := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionTrue, Reason: policyv1.SufficientPodsReason, ObservedGeneration: pdb.Generation}
	if st.DisruptionsAllowed == 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, policyv1.InsufficientPodsReason
	}
	setCondition(&st.Conditions, cond, now)
	return st, nil
}

func ready(p *corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// setCondition replaces or adds c, keeping the transition time when the
// status did not change.
func setCondition(conds *[]metav1.Condition, c metav1.Condition, now time.Time) {
	for i := range *conds {
		old := &(*conds)[i]
		if old.Type != c.Type {
			continue
		}
		c.LastTransitionTime = old.LastTransitionTime
		if old.Status != c.Status {
			c.LastTransitionTime = metav1.NewTime(now)
		}
		*old = c
		return
	}
	c.LastTransitionTime = metav1.NewTime(now)
	*conds = append(*conds, c)
}
