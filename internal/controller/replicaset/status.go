package replicaset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// computeStatus is the status rs should have with the claimed active pods,
// the number of its terminating pods and the outcome of manageReplicas.
func computeStatus(rs *appsv1.ReplicaSet, pods []*corev1.Pod, terminating int32, manageErr error, now time.Time, withTerminating bool) appsv1.ReplicaSetStatus {
	st := appsv1.ReplicaSetStatus{
		Replicas:           int32(len(pods)),
		ObservedGeneration: rs.Generation,
		Conditions:         append([]appsv1.ReplicaSetCondition(nil), rs.Status.Conditions...),
	}
	if withTerminating {
		st.TerminatingReplicas = ptr.To(terminating)
	}
	fully := labels.SelectorFromSet(rs.Spec.Template.Labels)
	for _, p := range pods {
		if fully.Matches(labels.Set(p.Labels)) {
			st.FullyLabeledReplicas++
		}
		if kit.IsPodReady(p) {
			st.ReadyReplicas++
		}
		if kit.IsPodAvailable(p, rs.Spec.MinReadySeconds, now) {
			st.AvailableReplicas++
		}
	}
	st.Conditions = failureCondition(st.Conditions, len(pods)-int(replicasOf(rs)), manageErr, now)
	return st
}

// failureCondition sets the ReplicaFailure condition when creating or
// deleting failed and drops it once a sync succeeds.
func failureCondition(conds []appsv1.ReplicaSetCondition, diff int, manageErr error, now time.Time) []appsv1.ReplicaSetCondition {
	i := -1
	for j, c := range conds {
		if c.Type == appsv1.ReplicaSetReplicaFailure {
			i = j
		}
	}
	switch {
	case manageErr != nil && i < 0:
		reason := "FailedCreate"
		if diff > 0 {
			reason = "FailedDelete"
		}
		return append(conds, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue,
			LastTransitionTime: metav1.NewTime(now), Reason: reason, Message: manageErr.Error(),
		})
	case manageErr == nil && i >= 0:
		return append(conds[:i:i], conds[i+1:]...)
	}
	return conds
}

// statusEqual reports whether writing b over a would change nothing.
func statusEqual(a, b appsv1.ReplicaSetStatus) bool {
	return equality.Semantic.DeepEqual(a, b)
}

// nextAvailable returns the earliest time a ready pod that is not yet
// available becomes available, if there is one.
func nextAvailable(pods []*corev1.Pod, minReadySeconds int32, now time.Time) (time.Time, bool) {
	var next time.Time
	if minReadySeconds <= 0 {
		return next, false
	}
	for _, p := range pods {
		if !kit.IsPodReady(p) || kit.IsPodAvailable(p, minReadySeconds, now) {
			continue
		}
		if at := kit.AvailableAt(p, minReadySeconds); next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return next, !next.IsZero()
}
