package job

import (
	"fmt"
	"slices"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// matchFailurePolicy returns the action of the first podFailurePolicy rule
// that matches a failed pod, with a message naming the match; ok is false
// when no rule matches (the failure then counts towards backoffLimit).
func matchFailurePolicy(policy *batchv1.PodFailurePolicy, pod *corev1.Pod) (action batchv1.PodFailurePolicyAction, message string, ok bool) {
	if policy == nil {
		return "", "", false
	}
	for i, rule := range policy.Rules {
		if rule.OnExitCodes != nil {
			if c, code, hit := matchExitCodes(rule.OnExitCodes, pod); hit {
				return rule.Action, fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
					c, pod.Namespace, pod.Name, code, rule.Action, i), true
			}
		}
		for _, pattern := range rule.OnPodConditions {
			if hasPodCondition(pod, pattern.Type, pattern.Status) {
				return rule.Action, fmt.Sprintf("Pod %s/%s has condition %s matching %s rule at index %d",
					pod.Namespace, pod.Name, pattern.Type, rule.Action, i), true
			}
		}
	}
	return "", "", false
}

// matchExitCodes finds a container (init containers included) that
// terminated with a non-zero exit code the requirement matches.
func matchExitCodes(req *batchv1.PodFailurePolicyOnExitCodesRequirement, pod *corev1.Pod) (string, int32, bool) {
	statuses := append(slices.Clone(pod.Status.InitContainerStatuses), pod.Status.ContainerStatuses...)
	for _, s := range statuses {
		t := s.State.Terminated
		if t == nil || t.ExitCode == 0 {
			continue
		}
		if req.ContainerName != nil && *req.ContainerName != s.Name {
			continue
		}
		in := slices.Contains(req.Values, t.ExitCode)
		if (req.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) == in {
			return s.Name, t.ExitCode, true
		}
	}
	return "", 0, false
}

func hasPodCondition(pod *corev1.Pod, ct corev1.PodConditionType, status corev1.ConditionStatus) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == ct && c.Status == status {
			return true
		}
	}
	return false
}

// successPolicyMet returns the index of the first successPolicy rule that
// holds for the completed indexes of a Job with completions indexes.
func successPolicyMet(policy *batchv1.SuccessPolicy, completed sets.Set[int], completions int) (int, bool) {
	if policy == nil {
		return 0, false
	}
	for r, rule := range policy.Rules {
		var want sets.Set[int]
		if rule.SucceededIndexes != nil {
			want = parseIndexes(*rule.SucceededIndexes, completions)
		} else {
			want = sets.New[int]()
			for i := range completions {
				want.Insert(i)
			}
		}
		done := want.Intersection(completed).Len()
		if rule.SucceededCount != nil {
			if done >= int(*rule.SucceededCount) {
				return r, true
			}
		} else if done == want.Len() && want.Len() > 0 {
			return r, true
		}
	}
	return 0, false
}
