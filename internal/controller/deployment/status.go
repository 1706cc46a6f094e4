package deployment

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// computeStatus is d's status from its ReplicaSets: the counts, the
// collision count and the Available condition (other conditions kept).
func (c *Controller) computeStatus(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, all []*appsv1.ReplicaSet) appsv1.DeploymentStatus {
	available := sumStatus(all, statusAvailable)
	st := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumStatus(all, statusReplicas),
		UpdatedReplicas:     sumStatus([]*appsv1.ReplicaSet{newRS}, statusReplicas),
		ReadyReplicas:       sumStatus(all, statusReady),
		AvailableReplicas:   available,
		UnavailableReplicas: max(sumSpec(all)-available, 0),
		CollisionCount:      d.Status.CollisionCount,
		TerminatingReplicas: terminating(all),
		Conditions:          append([]appsv1.DeploymentCondition(nil), d.Status.Conditions...),
	}
	now := c.now()
	if available >= desired(d)-maxUnavailable(d) {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, reasonMinAvailable, "Deployment has minimum availability.", now))
	} else {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, reasonMinUnavailable, "Deployment does not have minimum availability.", now))
	}
	return st
}

// terminating sums the ReplicaSets' terminating pods; nil if any of them
// does not report it.
func terminating(all []*appsv1.ReplicaSet) *int32 {
	var n int32
	for _, rs := range all {
		if rs.Status.TerminatingReplicas == nil {
			return nil
		}
		n += *rs.Status.TerminatingReplicas
	}
	return ptr.To(n)
}

func statusEqual(a, b appsv1.DeploymentStatus) bool { return equality.Semantic.DeepEqual(a, b) }

// syncRolloutStatus writes the status with the Progressing condition of a
// rollout step and schedules a look at the progress deadline.
func (c *Controller) syncRolloutStatus(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	all := withNew(old, newRS)
	st := c.computeStatus(d, newRS, all)
	c.progressCondition(d, newRS, &st)
	replicaFailure(all, &st)
	if !statusEqual(d.Status, st) {
		d.Status = st
		if err := c.writeStatus(ctx, d); err != nil {
			return err
		}
	}
	return c.requeueForDeadline(d)
}

// progressCondition sets Progressing on st: complete, progressing (which
// renews the deadline) or timed out.
func (c *Controller) progressCondition(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, st *appsv1.DeploymentStatus) {
	if !hasProgressDeadline(d) {
		removeCondition(st, appsv1.DeploymentProgressing)
		return
	}
	cur := getCondition(&d.Status, appsv1.DeploymentProgressing)
	if st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == reasonNewRSAvailable {
		return // finished earlier; stays so until the next rollout
	}
	now := c.now()
	name := ""
	if newRS != nil {
		name = newRS.Name
	}
	switch {
	case complete(d, st):
		msg := fmt.Sprintf("ReplicaSet %q has successfully progressed.", name)
		setCondition(st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewRSAvailable, msg, now))
	case progressing(d, st):
		msg := fmt.Sprintf("ReplicaSet %q is progressing.", name)
		cond := newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonRSUpdated, msg, now)
		if cur != nil && cur.Status == corev1.ConditionTrue {
			cond.LastTransitionTime = cur.LastTransitionTime
		}
		// Replace rather than set, so the update time moves: progress
		// restarts the deadline.
		removeCondition(st, appsv1.DeploymentProgressing)
		st.Conditions = append(st.Conditions, cond)
	case timedOut(d, st, now):
		msg := fmt.Sprintf("ReplicaSet %q has timed out progressing.", name)
		setCondition(st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, reasonTimedOut, msg, now))
	}
}

// replicaFailure mirrors a ReplicaSet's ReplicaFailure condition (e.g. a
// quota refusing pods) on the Deployment.
func replicaFailure(all []*appsv1.ReplicaSet, st *appsv1.DeploymentStatus) {
	for _, rs := range all {
		for _, rc := range rs.Status.Conditions {
			if rc.Type == appsv1.ReplicaSetReplicaFailure {
				setCondition(st, appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure, Status: rc.Status,
					Reason: rc.Reason, Message: rc.Message, LastUpdateTime: rc.LastTransitionTime, LastTransitionTime: rc.LastTransitionTime})
				return
			}
		}
	}
	removeCondition(st, appsv1.DeploymentReplicaFailure)
}

// requeueForDeadline asks to look at d again when its progress deadline
// passes, if it is still progressing.
func (c *Controller) requeueForDeadline(d *appsv1.Deployment) error {
	cur := getCondition(&d.Status, appsv1.DeploymentProgressing)
	if !hasProgressDeadline(d) || cur == nil || cur.Reason == reasonNewRSAvailable || cur.Reason == reasonTimedOut ||
		cur.Status != corev1.ConditionTrue || complete(d, &d.Status) {
		return nil
	}
	deadline := cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second)
	return kit.RequeueAfter(max(deadline.Sub(c.now()), 0) + time.Second)
}

// checkPausedConditions marks the Progressing condition when d is paused
// or resumed, which stops or restarts the progress deadline.
func (c *Controller) checkPausedConditions(ctx context.Context, d *appsv1.Deployment) error {
	if !hasProgressDeadline(d) {
		return nil
	}
	cur := getCondition(&d.Status, appsv1.DeploymentProgressing)
	if cur != nil && cur.Reason == reasonTimedOut {
		return nil
	}
	isPaused := cur != nil && cur.Reason == reasonPaused
	switch {
	case d.Spec.Paused && !isPaused:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, reasonPaused, "Deployment is paused", c.now()))
	case !d.Spec.Paused && isPaused:
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, reasonResumed, "Deployment is resumed", c.now()))
	default:
		return nil
	}
	return c.writeStatus(ctx, d)
}
