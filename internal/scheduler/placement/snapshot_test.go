package placement

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSnapshotAccounting(t *testing.T) {
	s := loadScript(t, `
node a cpu=4 images=img:1@100Mi
node b cpu=4 images=img:1@100Mi
pod x node=a cpu=1 ports=80
pod y cpu=2 ports=81
		affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {}}]}}
`)
	a := s.snap.Node("a")
	if a.Requested.MilliCPU != 1000 || len(a.Pods()) != 1 || len(a.ports) != 1 {
		t.Fatalf("after add: %+v", a.Requested)
	}
	y := s.pod("y")
	s.snap.Assume(y, "a")
	if y.Spec.NodeName != "" {
		t.Errorf("Assume modified the caller's pod")
	}
	if a.Requested.MilliCPU != 3000 || a.Requested.Pods != 2 || len(a.ports) != 2 || s.snap.podsWithRequiredAnti != 1 || a.withRequiredAnti != 1 {
		t.Errorf("after assume: %+v ports=%d anti=%d", a.Requested, len(a.ports), s.snap.podsWithRequiredAnti)
	}
	// The informer's update for the same pod replaces, not adds.
	bound := y.DeepCopy()
	bound.Spec.NodeName = "a"
	s.snap.AddPod(bound)
	if a.Requested.MilliCPU != 3000 || len(a.Pods()) != 2 {
		t.Errorf("re-add doubled: %+v", a.Requested)
	}
	// Moving to a terminal phase releases the resources.
	done := bound.DeepCopy()
	done.Status.Phase = corev1.PodSucceeded
	s.snap.AddPod(done)
	if a.Requested.MilliCPU != 1000 || len(a.ports) != 1 || s.snap.podsWithRequiredAnti != 0 {
		t.Errorf("after completion: %+v", a.Requested)
	}
	if s.snap.imageNodes["img:1"] != 2 {
		t.Errorf("image nodes = %d, want 2", s.snap.imageNodes["img:1"])
	}
	s.snap.RemoveNode("a")
	if s.snap.Node("a") != nil || len(s.snap.Nodes) != 1 || s.snap.imageNodes["img:1"] != 1 || len(s.snap.podNode) != 0 {
		t.Errorf("after node removal: nodes=%d images=%d pods=%d", len(s.snap.Nodes), s.snap.imageNodes["img:1"], len(s.snap.podNode))
	}
	// Updating a node keeps its pods and refreshes allocatable.
	s.snap.AddPod(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "z", Namespace: "default"}, Spec: corev1.PodSpec{NodeName: "b"}})
	n := s.snap.Node("b").Node.DeepCopy()
	n.Status.Allocatable[corev1.ResourceCPU] = n.Status.Allocatable[corev1.ResourceMemory]
	s.snap.SetNode(n)
	if len(s.snap.Node("b").Pods()) != 1 || s.snap.Node("b").Allocatable.MilliCPU == 4000 {
		t.Errorf("SetNode lost pods or allocatable")
	}
}

func TestNormalizeImage(t *testing.T) {
	for in, want := range map[string]string{
		"nginx": "nginx:latest", "nginx:1.2": "nginx:1.2", "localhost:5000/app": "localhost:5000/app:latest",
		"repo/app@sha256:abc": "repo/app@sha256:abc",
	} {
		if got := normalizeImage(in); got != want {
			t.Errorf("normalizeImage(%q) = %q, want %q", in, got, want)
		}
	}
}
