package podgc

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// plan is what one collection pass deletes.
type plan struct {
	// terminated are the oldest terminated pods beyond the threshold.
	terminated []*corev1.Pod
	// orphaned are pods on nodes missing past the grace, by node.
	orphaned []*corev1.Pod
	// unscheduledTerminating are deleted pods never bound to a node.
	unscheduledTerminating []*corev1.Pod
}

// makePlan decides the pass: threshold < 0 keeps every terminated pod;
// gone reports nodes missing past the grace.
func makePlan(pods []*corev1.Pod, threshold int, gone func(node string) bool) plan {
	var p plan
	var terminated []*corev1.Pod
	for _, pod := range pods {
		switch {
		case pod.Spec.NodeName != "" && gone(pod.Spec.NodeName):
			p.orphaned = append(p.orphaned, pod)
		case pod.Spec.NodeName == "" && pod.DeletionTimestamp != nil:
			p.unscheduledTerminating = append(p.unscheduledTerminating, pod)
		case isTerminated(pod) && pod.DeletionTimestamp == nil:
			terminated = append(terminated, pod)
		}
	}
	if threshold >= 0 && len(terminated) > threshold {
		slices.SortStableFunc(terminated, func(a, b *corev1.Pod) int {
			if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
				return c
			}
			return compareStrings(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
		})
		p.terminated = terminated[:len(terminated)-threshold]
	}
	return p
}

func isTerminated(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
