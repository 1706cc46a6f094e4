package disruption

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestDesiredHealthy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		min, max *intstr.IntOrString
		expected int32
		want     int32
	}{
		{"minAvailable 2", ptr.To(intstr.FromInt32(2)), nil, 5, 2},
		{"minAvailable 50% rounds up", ptr.To(intstr.FromString("50%")), nil, 5, 3},
		{"maxUnavailable 1", nil, ptr.To(intstr.FromInt32(1)), 5, 4},
		{"maxUnavailable 30% rounds up", nil, ptr.To(intstr.FromString("30%")), 5, 3},
		{"maxUnavailable above expected", nil, ptr.To(intstr.FromInt32(9)), 5, 0},
	} {
		pdb := &policyv1.PodDisruptionBudget{Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: tc.min, MaxUnavailable: tc.max}}
		got, err := DesiredHealthy(pdb, tc.expected)
		if err != nil || got != tc.want {
			t.Errorf("%s: DesiredHealthy = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}

func TestStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pod := func(name string, ready bool, deleting bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
		if deleting {
			p.DeletionTimestamp = &metav1.Time{Time: now}
		}
		return p
	}
	pods := []*corev1.Pod{pod("a", true, false), pod("b", true, false), pod("c", true, false), pod("d", false, false), pod("e", true, true)}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Generation: 3},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(2))},
		Status: policyv1.PodDisruptionBudgetStatus{DisruptedPods: map[string]metav1.Time{
			"c":    metav1.NewTime(now.Add(-time.Minute)),     // just evicted: not healthy
			"b":    metav1.NewTime(now.Add(-3 * time.Minute)), // timed out: healthy again
			"gone": metav1.NewTime(now),
		}},
	}
	st, err := Status(pdb, pods, 5, now)
	if err != nil {
		t.Fatal(err)
	}
	if st.CurrentHealthy != 2 || st.DesiredHealthy != 2 || st.DisruptionsAllowed != 0 || st.ExpectedPods != 5 || st.ObservedGeneration != 3 {
		t.Fatalf("status %+v: want healthy 2, desired 2, allowed 0, expected 5, generation 3", st)
	}
	if len(st.DisruptedPods) != 1 || st.DisruptedPods["c"].Time.IsZero() {
		t.Fatalf("disruptedPods %v, want only c", st.DisruptedPods)
	}
	if c := st.Conditions[0]; c.Status != metav1.ConditionFalse || c.Reason != policyv1.InsufficientPodsReason {
		t.Fatalf("condition %+v", c)
	}
	pdb.Status = st
	st, _ = Status(pdb, pods, 5, now.Add(2*time.Minute))
	if st.DisruptionsAllowed != 1 || st.Conditions[0].Reason != policyv1.SufficientPodsReason || !st.Conditions[0].LastTransitionTime.Time.Equal(now.Add(2*time.Minute)) {
		t.Fatalf("after c's eviction timed out: %+v", st)
	}
}
