package scheduler_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/skiffkube/skiff/internal/scheduler"
	"github.com/skiffkube/skiff/internal/scheduler/placement"
)

func explainNode(name, cpu string, taints ...corev1.Taint) *corev1.Node {
	alloc := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse("4Gi"),
		corev1.ResourcePods: resource.MustParse("110")}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Allocatable: alloc, Capacity: alloc,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
}

func explainPod(name, node, cpu string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: node, SchedulerName: scheduler.DefaultSchedulerName,
			Containers: []corev1.Container{{Name: "c", Image: "img",
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}}}}}
}

// TestExplain: a pod that fits nowhere gets upstream's summary and one
// line per node; one that fits lists its nodes with scores.
func TestExplain(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset(
		explainNode("a", "2"), explainNode("b", "2"),
		explainNode("c", "8", corev1.Taint{Key: "gpu", Value: "yes", Effect: corev1.TaintEffectNoSchedule}),
		explainPod("busy", "a", "1500m"),
		explainPod("big", "", "3"),
		explainPod("small", "", "1"),
	)
	e, err := scheduler.Explain(ctx, cs, "default", "big", nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := e.Write(&out); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Pod default/big (pending; scheduler default-scheduler; priority 0)",
		"0/3 nodes are available: 1 node(s) had untolerated taint {gpu: yes}, 2 Insufficient cpu.",
		"preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
		"",
		"NODE  FITS  SCORE / REASONS",
		"a     no    Insufficient cpu",
		"b     no    Insufficient cpu",
		"c     no    node(s) had untolerated taint {gpu: yes}",
	}
	if got := strings.Split(strings.TrimRight(out.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("explain big:\n%s\nwant:\n%s", out.String(), strings.Join(want, "\n"))
	}

	e, err = scheduler.Explain(ctx, cs, "default", "small", []placement.Profile{{SchedulerName: scheduler.DefaultSchedulerName}})
	if err != nil {
		t.Fatal(err)
	}
	if e.Result.Feasible != 1 || e.Result.Node != "b" || e.Unserved {
		t.Errorf("small: feasible %d, node %q, unserved %v; want 1, b, false", e.Result.Feasible, e.Result.Node, e.Unserved)
	}
	out.Reset()
	if err := e.Write(&out); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"b     yes   ", "a     no    Insufficient cpu"} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("explain small lacks %q:\n%s", line, out.String())
		}
	}

	if _, err := scheduler.Explain(ctx, cs, "default", "missing", nil); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing pod: err %v, want not found", err)
	}
}
