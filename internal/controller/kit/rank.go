package kit

import (
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// DeletionCostAnnotation lets users order which pods a ReplicaSet removes
// first (lower cost first).
const DeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// SortForDeletion orders pods so that the ones to delete first come first,
// as upstream's ReplicaSet does: unscheduled before scheduled, pending
// before unknown before running, not ready before ready, lower deletion
// cost first, more pods on the same node first (ranks, optional), ready for
// less time first, more restarts first, newer before older.
func SortForDeletion(pods []*corev1.Pod, ranks map[string]int) {
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		return compareForDeletion(a, b, ranks)
	})
}

func compareForDeletion(a, b *corev1.Pod, ranks map[string]int) int {
	if c := boolFirst(a.Spec.NodeName == "", b.Spec.NodeName == ""); c != 0 {
		return c
	}
	if c := phaseRank(a.Status.Phase) - phaseRank(b.Status.Phase); c != 0 {
		return c
	}
	if c := boolFirst(!IsPodReady(a), !IsPodReady(b)); c != 0 {
		return c
	}
	if c := deletionCost(a) - deletionCost(b); c != 0 {
		return sign(c)
	}
	if ranks != nil {
		if c := ranks[string(b.UID)] - ranks[string(a.UID)]; c != 0 {
			return c
		}
	}
	if IsPodReady(a) && IsPodReady(b) {
		ta, tb := PodReadyCondition(a).LastTransitionTime, PodReadyCondition(b).LastTransitionTime
		if !ta.Equal(&tb) {
			if tb.Before(&ta) {
				return -1 // a became ready later: ready for less time
			}
			return 1
		}
	}
	if c := restarts(b) - restarts(a); c != 0 {
		return sign(c)
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		if b.CreationTimestamp.Before(&a.CreationTimestamp) {
			return -1
		}
		return 1
	}
	return 0
}

func boolFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return -1
	}
	return 1
}

func phaseRank(p corev1.PodPhase) int {
	switch p {
	case corev1.PodPending:
		return 0
	case corev1.PodUnknown:
		return 1
	case corev1.PodRunning:
		return 2
	}
	return 3
}

func deletionCost(p *corev1.Pod) int {
	v, err := strconv.ParseInt(p.Annotations[DeletionCostAnnotation], 10, 32)
	if err != nil {
		return 0
	}
	return int(v)
}

func restarts(p *corev1.Pod) int {
	n := 0
	for _, s := range p.Status.ContainerStatuses {
		n += int(s.RestartCount)
	}
	return n
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
