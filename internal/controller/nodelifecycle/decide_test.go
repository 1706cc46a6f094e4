package nodelifecycle

import (
	"fmt"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func node(ready corev1.ConditionStatus, heartbeat time.Time, mods ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))}}
	if ready != "" {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready, LastHeartbeatTime: metav1.NewTime(heartbeat)}}
	}
	for _, m := range mods {
		m(n)
	}
	return n
}

func TestStale(t *testing.T) {
	lease := &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{RenewTime: &metav1.MicroTime{Time: t0.Add(-10 * time.Second)}}}
	for _, tc := range []struct {
		name  string
		node  *corev1.Node
		lease *coordinationv1.Lease
		want  bool
	}{
		{"fresh status", node(corev1.ConditionTrue, t0.Add(-10*time.Second)), nil, false},
		{"old status, fresh lease", node(corev1.ConditionTrue, t0.Add(-5*time.Minute)), lease, false},
		{"old status, no lease", node(corev1.ConditionTrue, t0.Add(-5*time.Minute)), nil, true},
		{"never reported", node("", time.Time{}), nil, true},
	} {
		if got := Stale(tc.node, tc.lease, t0, 50*time.Second); got != tc.want {
			t.Errorf("%s: Stale = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestMarkUnknown(t *testing.T) {
	st, changed := MarkUnknown(node(corev1.ConditionTrue, t0), t0)
	if !changed || len(st.Conditions) != 4 {
		t.Fatalf("changed=%v conditions=%d, want true and 4", changed, len(st.Conditions))
	}
	for _, c := range st.Conditions {
		if c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusUnknown" {
			t.Errorf("condition %s = %s/%s", c.Type, c.Status, c.Reason)
		}
	}
	n := node(corev1.ConditionTrue, t0)
	n.Status = st
	if _, changed := MarkUnknown(n, t0.Add(time.Minute)); changed {
		t.Error("second MarkUnknown changed the status")
	}
}

func TestTaints(t *testing.T) {
	custom := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	for _, tc := range []struct {
		name      string
		node      *corev1.Node
		noExecute bool
		want      string
	}{
		{"ready", node(corev1.ConditionTrue, t0), true, "[dedicated:NoSchedule]"},
		{"not ready", node(corev1.ConditionFalse, t0), true, "[dedicated:NoSchedule node.kubernetes.io/not-ready:NoSchedule node.kubernetes.io/not-ready:NoExecute]"},
		{"unknown, evictions held", node(corev1.ConditionUnknown, t0), false, "[dedicated:NoSchedule node.kubernetes.io/unreachable:NoSchedule]"},
		{"cordoned with memory pressure", node(corev1.ConditionTrue, t0, func(n *corev1.Node) {
			n.Spec.Unschedulable = true
			n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue})
		}), true, "[dedicated:NoSchedule node.kubernetes.io/memory-pressure:NoSchedule node.kubernetes.io/unschedulable:NoSchedule]"},
	} {
		current := []corev1.Taint{custom, {Key: TaintNotReady, Effect: corev1.TaintEffectNoSchedule}}
		got, _ := MergeTaints(current, DesiredTaints(tc.node, tc.noExecute), t0)
		var s []string
		for _, x := range got {
			s = append(s, x.Key+":"+string(x.Effect))
			if x.Effect == corev1.TaintEffectNoExecute && (x.TimeAdded == nil || !x.TimeAdded.Time.Equal(t0)) {
				t.Errorf("%s: NoExecute taint without timeAdded", tc.name)
			}
		}
		if fmt.Sprint(s) != tc.want {
			t.Errorf("%s: taints %v, want %s", tc.name, s, tc.want)
		}
	}
	same := []corev1.Taint{{Key: TaintNotReady, Effect: corev1.TaintEffectNoSchedule}}
	if _, changed := MergeTaints(same, DesiredTaints(node(corev1.ConditionFalse, t0), false), t0); changed {
		t.Error("unchanged taints reported as changed")
	}
}

func TestEvictAt(t *testing.T) {
	taints := []corev1.Taint{{Key: TaintUnreachable, Effect: corev1.TaintEffectNoExecute, TimeAdded: &metav1.Time{Time: t0}}}
	tol := func(secs *int64) corev1.Toleration {
		return corev1.Toleration{Key: TaintUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs}
	}
	for _, tc := range []struct {
		name      string
		tols      []corev1.Toleration
		wantEvict bool
		wantAt    time.Time
	}{
		{"no toleration", nil, true, t0.Add(time.Minute)},
		{"tolerates 300 s", []corev1.Toleration{tol(ptr.To[int64](300))}, true, t0.Add(300 * time.Second)},
		{"smallest seconds wins", []corev1.Toleration{tol(ptr.To[int64](300)), tol(ptr.To[int64](30))}, true, t0.Add(30 * time.Second)},
		{"tolerates forever", []corev1.Toleration{tol(nil)}, false, time.Time{}},
	} {
		pod := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tc.tols}}
		evict, at := EvictAt(pod, taints, t0.Add(time.Minute))
		if evict != tc.wantEvict || !at.Equal(tc.wantAt) {
			t.Errorf("%s: EvictAt = %v %s, want %v %s", tc.name, evict, at, tc.wantEvict, tc.wantAt)
		}
	}
}
