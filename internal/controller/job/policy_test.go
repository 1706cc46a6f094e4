package job

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/utils/ptr"
)

func TestIndexes(t *testing.T) {
	for _, tc := range []struct {
		in    string
		limit int
		want  string
	}{
		{"", 10, ""},
		{"1,3-5,7", 10, "1,3-5,7"},
		{"0,1,2", 10, "0-2"},
		{"3-5,4-8", 10, "3-8"},
		{"1,8-12", 10, "1,8-9"},
		{"x,2,5-3", 10, "2"},
	} {
		if got := formatIndexes(parseIndexes(tc.in, tc.limit)); got != tc.want {
			t.Errorf("%q (limit %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
	if got := missingIndexes(6, 2, sets.New(0, 2), sets.New(1)); len(got) != 2 || got[0] != 3 || got[1] != 4 {
		t.Errorf("missingIndexes = %v, want [3 4]", got)
	}
}

func TestBackoffDelay(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{{0, 0}, {1, 10 * time.Second}, {2, 20 * time.Second}, {4, 80 * time.Second}, {6, 320 * time.Second}, {7, 6 * time.Minute}, {50, 6 * time.Minute}} {
		if got := backoffDelay(tc.failures, defaultBackoff, defaultMaxBackoff); got != tc.want {
			t.Errorf("backoffDelay(%d) = %v, want %v", tc.failures, got, tc.want)
		}
	}
	s := newBackoffStore()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.record("k", []time.Time{t0, t0.Add(time.Second)}, 0)
	r := s.record("k", nil, 0)
	if r.failures != 2 || !r.last.Equal(t0.Add(time.Second)) {
		t.Errorf("record %+v", r)
	}
	if got := backoffRemaining(r, defaultBackoff, defaultMaxBackoff, t0.Add(11*time.Second)); got != 10*time.Second {
		t.Errorf("remaining %v, want 10s", got)
	}
	if r := s.record("k", nil, 1); r.failures != 0 {
		t.Errorf("a success did not reset the record: %+v", r)
	}
}

func failedPod(exit int32, container string, conds ...corev1.PodConditionType) *corev1.Pod {
	p := &corev1.Pod{}
	p.Namespace, p.Name = "ns", "p"
	p.Status.Phase = corev1.PodFailed
	p.Status.ContainerStatuses = []corev1.ContainerStatus{
		{Name: "ok", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}},
		{Name: container, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: exit}}},
	}
	for _, c := range conds {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue})
	}
	return p
}

func TestMatchFailurePolicy(t *testing.T) {
	policy := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		{Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue}}},
		{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: ptr.To("main"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
		{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{1, 2}}},
	}}
	for _, tc := range []struct {
		name    string
		pod     *corev1.Pod
		want    batchv1.PodFailurePolicyAction
		matched bool
		msg     string
	}{
		{"disruption", failedPod(42, "main", corev1.DisruptionTarget), batchv1.PodFailurePolicyActionIgnore, true, "Pod ns/p has condition DisruptionTarget matching Ignore rule at index 0"},
		{"exit 42 in main", failedPod(42, "main"), batchv1.PodFailurePolicyActionFailJob, true, "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1"},
		{"exit 42 elsewhere", failedPod(42, "side"), batchv1.PodFailurePolicyActionCount, true, "Container side for pod ns/p failed with exit code 42 matching Count rule at index 2"},
		{"exit 1", failedPod(1, "main"), "", false, ""},
	} {
		a, msg, ok := matchFailurePolicy(policy, tc.pod)
		if a != tc.want || ok != tc.matched || msg != tc.msg {
			t.Errorf("%s: got %q %v %q, want %q %v %q", tc.name, a, ok, msg, tc.want, tc.matched, tc.msg)
		}
	}
}

func TestSuccessPolicy(t *testing.T) {
	policy := &batchv1.SuccessPolicy{Rules: []batchv1.SuccessPolicyRule{
		{SucceededIndexes: ptr.To("0-2"), SucceededCount: ptr.To[int32](2)},
		{SucceededIndexes: ptr.To("5")},
	}}
	for _, tc := range []struct {
		completed sets.Set[int]
		rule      int
		ok        bool
	}{
		{sets.New(0), 0, false},
		{sets.New(0, 3, 4), 0, false},
		{sets.New(0, 2), 0, true},
		{sets.New(5), 1, true},
	} {
		r, ok := successPolicyMet(policy, tc.completed, 6)
		if ok != tc.ok || (ok && r != tc.rule) {
			t.Errorf("%v: rule %d %v, want %d %v", sets.List(tc.completed), r, ok, tc.rule, tc.ok)
		}
	}
}
