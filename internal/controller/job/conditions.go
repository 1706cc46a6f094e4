package job

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// findCondition returns the Job's condition of type ct, or nil.
func findCondition(j *batchv1.Job, ct batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == ct {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// hasCondition reports whether the Job's condition ct is True.
func hasCondition(j *batchv1.Job, ct batchv1.JobConditionType) bool {
	c := findCondition(j, ct)
	return c != nil && c.Status == corev1.ConditionTrue
}

// isFinished reports whether the Job has its terminal condition.
func isFinished(j *batchv1.Job) bool {
	return hasCondition(j, batchv1.JobComplete) || hasCondition(j, batchv1.JobFailed)
}

// setCondition sets condition ct on the Job, keeping the transition time
// when the status does not change; it reports whether anything changed.
func setCondition(j *batchv1.Job, ct batchv1.JobConditionType, status corev1.ConditionStatus, reason, message string, now metav1.Time) bool {
	if c := findCondition(j, ct); c != nil {
		if c.Status == status && c.Reason == reason && c.Message == message {
			return false
		}
		if c.Status != status {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message, c.LastProbeTime = status, reason, message, now
		return true
	}
	j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{
		Type: ct, Status: status, Reason: reason, Message: message, LastProbeTime: now, LastTransitionTime: now,
	})
	return true
}

// interim returns the outcome recorded by a FailureTarget or
// SuccessCriteriaMet condition, or nil.
func interim(j *batchv1.Job) *outcome {
	if c := findCondition(j, batchv1.JobFailureTarget); c != nil && c.Status == corev1.ConditionTrue {
		return &outcome{failed: true, reason: c.Reason, message: c.Message}
	}
	if c := findCondition(j, batchv1.JobSuccessCriteriaMet); c != nil && c.Status == corev1.ConditionTrue {
		return &outcome{reason: c.Reason, message: c.Message}
	}
	return nil
}
