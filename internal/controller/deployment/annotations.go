package deployment

import (
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// Labels and annotations upstream's Deployment controller and kubectl use.
const (
	hashLabel                 = appsv1.DefaultDeploymentUniqueLabelKey // pod-template-hash
	revisionAnnotation        = "deployment.kubernetes.io/revision"
	revisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	desiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	maxReplicasAnnotation     = "deployment.kubernetes.io/max-replicas"
	rollbackToAnnotation      = appsv1.DeprecatedRollbackTo
	lastAppliedAnnotation     = corev1.LastAppliedConfigAnnotation
)

// notCopied are the Deployment annotations that do not pass to its
// ReplicaSets (and back on rollback).
func notCopied(key string) bool {
	switch key {
	case lastAppliedAnnotation, revisionAnnotation, revisionHistoryAnnotation,
		desiredReplicasAnnotation, maxReplicasAnnotation, rollbackToAnnotation:
		return true
	}
	return false
}

// revision is a ReplicaSet's revision number; 0 when unset or invalid.
func revision(annotations map[string]string) int64 {
	v, err := strconv.ParseInt(annotations[revisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

// maxRevision is the highest revision among rss.
func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		m = max(m, revision(rs.Annotations))
	}
	return m
}

// lastRevision is the second highest revision: the one before the current.
func lastRevision(rss []*appsv1.ReplicaSet) int64 {
	var first, second int64
	for _, rs := range rss {
		switch v := revision(rs.Annotations); {
		case v > first:
			first, second = v, first
		case v > second && v != first:
			second = v
		}
	}
	return second
}

// setNewRSAnnotations brings the new ReplicaSet's annotations up to date
// with d: d's own annotations, the revision (recording the one it
// replaces in the history) and, for a ReplicaSet about to be created, the
// replica annotations (an existing one keeps the size it was scaled for,
// which proportional scaling reads). It reports whether anything changed.
func setNewRSAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet, newRevision int64, creating bool) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	changed := copyDeploymentAnnotations(d.Annotations, rs.Annotations)
	old := rs.Annotations[revisionAnnotation]
	if oldRev := revision(rs.Annotations); oldRev < newRevision {
		rs.Annotations[revisionAnnotation] = strconv.FormatInt(newRevision, 10)
		changed = true
		if old != "" {
			hist := rs.Annotations[revisionHistoryAnnotation]
			if hist == "" {
				hist = old
			} else {
				hist += "," + old
			}
			rs.Annotations[revisionHistoryAnnotation] = hist
		}
	}
	if creating && setReplicasAnnotations(rs, desired(d), desired(d)+maxSurge(d)) {
		changed = true
	}
	return changed
}

// copyDeploymentAnnotations copies the user's annotations of a Deployment
// onto its ReplicaSet; it reports whether anything changed.
func copyDeploymentAnnotations(from, to map[string]string) bool {
	changed := false
	for k, v := range from {
		if notCopied(k) || to[k] == v {
			continue
		}
		to[k] = v
		changed = true
	}
	return changed
}

// setReplicasAnnotations records the Deployment size a ReplicaSet was
// scaled for; it reports whether anything changed.
func setReplicasAnnotations(rs *appsv1.ReplicaSet, desired, maxReplicas int32) bool {
	d, m := strconv.Itoa(int(desired)), strconv.Itoa(int(maxReplicas))
	if rs.Annotations[desiredReplicasAnnotation] == d && rs.Annotations[maxReplicasAnnotation] == m {
		return false
	}
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	rs.Annotations[desiredReplicasAnnotation] = d
	rs.Annotations[maxReplicasAnnotation] = m
	return true
}

// intAnnotation reads a numeric annotation.
func intAnnotation(rs *appsv1.ReplicaSet, key string) (int32, bool) {
	v, err := strconv.ParseInt(rs.Annotations[key], 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(v), true
}

// rollbackAnnotations are the annotations a Deployment gets back from the
// ReplicaSet it rolls back to: the user's ones, none of the controller's.
func rollbackAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet) {
	keys := make([]string, 0, len(rs.Annotations))
	for k := range rs.Annotations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if notCopied(k) || strings.HasPrefix(k, "deployment.kubernetes.io/") {
			continue
		}
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[k] = rs.Annotations[k]
	}
}
