package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func stateNode(name string) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourcePods: resource.MustParse("10")}}}
}

func statePod(name, node string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}}}}
}

func requested(s *state, node string) int64 {
	ni := s.snap.Node(node)
	if ni == nil {
		return -1
	}
	return ni.Requested.MilliCPU
}

// TestStateOrdering: a pod reported before its node is accounted once the
// node arrives; assumed pods are forgotten on a failed bind but not after
// the informer confirmed them.
func TestStateOrdering(t *testing.T) {
	s := newState()
	s.setPod(statePod("early", "n1"))
	s.setNode(stateNode("n1"))
	if got := requested(s, "n1"); got != 1000 {
		t.Fatalf("n1 requested %dm after late node, want 1000m", got)
	}
	pending := statePod("a", "")
	s.assume(pending, "n1")
	if !s.isAssumed(pending) || requested(s, "n1") != 2000 {
		t.Fatalf("assume: assumed=%v requested=%d", s.isAssumed(pending), requested(s, "n1"))
	}
	s.forgetAssumed(pending)
	if s.isAssumed(pending) || requested(s, "n1") != 1000 {
		t.Fatalf("forgetAssumed: assumed=%v requested=%d", s.isAssumed(pending), requested(s, "n1"))
	}
	s.assume(pending, "n1")
	s.setPod(statePod("a", "n1")) // the informer reports the binding
	s.forgetAssumed(pending)      // a late failure must not undo it
	if got := requested(s, "n1"); got != 2000 {
		t.Fatalf("confirmed pod forgotten: requested %dm, want 2000m", got)
	}
	s.removePod(statePod("early", "n1"))
	if got := requested(s, "n1"); got != 1000 {
		t.Fatalf("after delete requested %dm, want 1000m", got)
	}
}
