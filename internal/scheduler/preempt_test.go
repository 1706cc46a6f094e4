package scheduler_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestPreemption: a high-priority pod that fits nowhere evicts a
// lower-priority pod, is nominated to its node and then bound there.
func TestPreemption(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := startCluster(t, ctx)
	defer c.stop()
	defer cancel()
	c.runNodes("node-", 1, "2")
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000}
	if _, err := c.cs.SchedulingV1().PriorityClasses().Create(ctx, pc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.createPod("low", "1500m", nil)
	c.untilPod("low", running)

	c.createPod("high", "1", func(p *corev1.Pod) { p.Spec.PriorityClassName = "high" })
	e := c.untilEvent("low", "Preempted")
	t.Logf("victim event: %s", e.Message)
	p := c.untilPod("high", running)
	if p.Spec.NodeName != "node-0" {
		t.Errorf("high on %q, want node-0", p.Spec.NodeName)
	}
	if _, err := c.cs.CoreV1().Pods("default").Get(ctx, "low", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("victim still there: %v", err)
	}
	var nominated string
	c.until("events", "default", &corev1.Event{}, func(o runtime.Object) bool {
		e := o.(*corev1.Event)
		if e.InvolvedObject.Name == "high" && e.Reason == "FailedScheduling" {
			nominated = e.Message
			return true
		}
		return false
	})
	t.Logf("preemptor event: %s", nominated)
}

// TestNominatedRoomHeld: the room a preemption frees waits for the
// preemptor; a lower-priority pod created meanwhile stays pending.
func TestNominatedRoomHeld(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := startCluster(t, ctx)
	defer c.stop()
	defer cancel()
	c.runNodes("node-", 1, "2")
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000}
	if _, err := c.cs.SchedulingV1().PriorityClasses().Create(ctx, pc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.createPod("low", "1500m", nil)
	c.untilPod("low", running)

	c.createPod("high", "1", func(p *corev1.Pod) { p.Spec.PriorityClassName = "high" })
	c.untilEvent("low", "Preempted")
	c.createPod("filler", "1500m", nil) // fits where low was, not beside high
	if p := c.untilPod("high", running); p.Spec.NodeName != "node-0" {
		t.Errorf("high on %q, want node-0", p.Spec.NodeName)
	}
	// Had filler taken the room, high would have preempted it in turn.
	filler, err := c.cs.CoreV1().Pods("default").Get(ctx, "filler", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("filler: %v", err)
	}
	if filler.Spec.NodeName != "" {
		t.Errorf("filler took the preemptor's room: bound to %s", filler.Spec.NodeName)
	}
	if cond := podScheduled(filler); cond == nil || cond.Status != corev1.ConditionFalse {
		t.Errorf("filler PodScheduled %v, want False", cond)
	}
}
