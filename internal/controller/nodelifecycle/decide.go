// Package nodelifecycle watches node heartbeats: a node whose Lease and
// status stop being renewed for the grace period gets its conditions set
// to Unknown, its pods marked not ready, and the not-ready/unreachable
// taints; pods that do not tolerate a NoExecute taint (or only for
// tolerationSeconds) are then evicted, rate-limited when many nodes fail.
//
// decide.go is the pure part: staleness, conditions, taints and eviction
// times as functions of the objects and the time.
package nodelifecycle

import (
	"slices"
	"time"

	"github.com/go-logr/logr"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Taint keys this controller manages.
const (
	TaintNotReady       = corev1.TaintNodeNotReady
	TaintUnreachable    = corev1.TaintNodeUnreachable
	TaintUnschedulable  = corev1.TaintNodeUnschedulable
	TaintMemoryPressure = corev1.TaintNodeMemoryPressure
	TaintDiskPressure   = corev1.TaintNodeDiskPressure
	TaintPIDPressure    = corev1.TaintNodePIDPressure
)

// managed reports whether the controller decides the presence of taints
// with this key.
func managed(key string) bool {
	switch key {
	case TaintNotReady, TaintUnreachable, TaintUnschedulable, TaintMemoryPressure, TaintDiskPressure, TaintPIDPressure:
		return true
	}
	return false
}

// LastHeard is the last sign of life of a node: the latest of its Lease
// renewal, its Ready condition's heartbeat and its creation.
func LastHeard(n *corev1.Node, lease *coordinationv1.Lease) time.Time {
	t := n.CreationTimestamp.Time
	if c := condition(n, corev1.NodeReady); c != nil && c.LastHeartbeatTime.After(t) {
		t = c.LastHeartbeatTime.Time
	}
	if lease != nil && lease.Spec.RenewTime != nil && lease.Spec.RenewTime.After(t) {
		t = lease.Spec.RenewTime.Time
	}
	return t
}

// Stale reports whether the node has not been heard of for grace.
func Stale(n *corev1.Node, lease *coordinationv1.Lease, now time.Time, grace time.Duration) bool {
	return now.Sub(LastHeard(n, lease)) > grace
}

// MarkUnknown returns the node's status with the agent's conditions set to
// Unknown (reason NodeStatusUnknown), and whether anything changed.
func MarkUnknown(n *corev1.Node, now time.Time) (corev1.NodeStatus, bool) {
	st := *n.Status.DeepCopy()
	changed := false
	// The conditions a silent node's agent would report all become Unknown.
	for _, t := range []corev1.NodeConditionType{corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		i := slices.IndexFunc(st.Conditions, func(c corev1.NodeCondition) bool { return c.Type == t })
		if i < 0 {
			st.Conditions = append(st.Conditions, corev1.NodeCondition{Type: t})
			i = len(st.Conditions) - 1
		}
		c := &st.Conditions[i]
		if c.Status == corev1.ConditionUnknown {
			continue
		}
		c.Status = corev1.ConditionUnknown
		c.Reason = "NodeStatusUnknown"
		c.Message = "Kubelet stopped posting node status."
		c.LastTransitionTime = metav1.NewTime(now)
		changed = true
	}
	return st, changed
}

// DesiredTaints are the managed taints the node should carry given its
// conditions and spec.unschedulable. noExecute false leaves out the
// NoExecute ones (evictions paused or rate-limited).
func DesiredTaints(n *corev1.Node, noExecute bool) []corev1.Taint {
	var out []corev1.Taint
	add := func(key string, effect corev1.TaintEffect) { out = append(out, corev1.Taint{Key: key, Effect: effect}) }
	switch ready := condition(n, corev1.NodeReady); {
	case ready == nil || ready.Status == corev1.ConditionUnknown:
		add(TaintUnreachable, corev1.TaintEffectNoSchedule)
		if noExecute {
			add(TaintUnreachable, corev1.TaintEffectNoExecute)
		}
	case ready.Status == corev1.ConditionFalse:
		add(TaintNotReady, corev1.TaintEffectNoSchedule)
		if noExecute {
			add(TaintNotReady, corev1.TaintEffectNoExecute)
		}
	}
	for t, key := range map[corev1.NodeConditionType]string{
		corev1.NodeMemoryPressure: TaintMemoryPressure, corev1.NodeDiskPressure: TaintDiskPressure, corev1.NodePIDPressure: TaintPIDPressure,
	} {
		if c := condition(n, t); c != nil && c.Status == corev1.ConditionTrue {
			add(key, corev1.TaintEffectNoSchedule)
		}
	}
	if n.Spec.Unschedulable {
		add(TaintUnschedulable, corev1.TaintEffectNoSchedule)
	}
	return out
}

// MergeTaints returns the node's taints with the managed ones replaced by
// desired (keeping the timeAdded of those already present), and whether
// they changed. Unmanaged taints are kept as they are.
func MergeTaints(current, desired []corev1.Taint, now time.Time) ([]corev1.Taint, bool) {
	var out []corev1.Taint
	for _, t := range current {
		if !managed(t.Key) {
			out = append(out, t)
		}
	}
	for _, d := range desired {
		i := slices.IndexFunc(current, func(t corev1.Taint) bool { return t.Key == d.Key && t.Effect == d.Effect })
		switch {
		case i >= 0:
			out = append(out, current[i])
		case d.Effect == corev1.TaintEffectNoExecute:
			d.TimeAdded = &metav1.Time{Time: now}
			out = append(out, d)
		default:
			out = append(out, d)
		}
	}
	same := len(out) == len(current)
	for i := 0; same && i < len(out); i++ {
		same = out[i].Key == current[i].Key && out[i].Effect == current[i].Effect
	}
	return out, !same
}

// EvictAt decides a pod's fate on a node with NoExecute taints: evict is
// false when the pod tolerates them all forever; otherwise it is evicted
// at the returned time (the earliest taint time plus the smallest
// tolerationSeconds; immediately for an untolerated taint).
func EvictAt(pod *corev1.Pod, taints []corev1.Taint, now time.Time) (evict bool, at time.Time) {
	for i := range taints {
		t := &taints[i]
		if t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		added := now
		if t.TimeAdded != nil {
			added = t.TimeAdded.Time
		}
		secs, tolerated := toleration(pod, t)
		if !tolerated {
			return true, now
		}
		if secs == nil {
			continue
		}
		when := added.Add(time.Duration(max(*secs, 0)) * time.Second)
		if !evict || when.Before(at) {
			evict, at = true, when
		}
	}
	return evict, at
}

// toleration finds the pod's tolerations of t: tolerated forever (nil
// seconds), for the smallest tolerationSeconds, or not at all.
func toleration(pod *corev1.Pod, t *corev1.Taint) (*int64, bool) {
	var secs *int64
	found := false
	for i := range pod.Spec.Tolerations {
		tol := &pod.Spec.Tolerations[i]
		if !tol.ToleratesTaint(logr.Discard(), t, false) {
			continue
		}
		if tol.TolerationSeconds == nil {
			return nil, true
		}
		if !found || *tol.TolerationSeconds < *secs {
			secs = tol.TolerationSeconds
		}
		found = true
	}
	return secs, found
}

func condition(n *corev1.Node, t corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == t {
			return &n.Status.Conditions[i]
		}
	}
	return nil
}
