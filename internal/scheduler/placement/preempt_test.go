package placement

import (
	"math"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPreemptLeavesSnapshotAlone(t *testing.T) {
	s := loadScript(t, `
node a cpu=2
node b cpu=2
pod x node=a cpu=2 priority=1
pod y node=b cpu=1 priority=1
pod z node=b cpu=1 priority=3
pod p cpu=2 priority=5
`)
	before := s.snap.Node("a").Requested.MilliCPU + s.snap.Node("b").Requested.MilliCPU
	for range 2 {
		node, victims, ok := Preempt(s.pod("p"), s.snap, Config{}, nil)
		if !ok || node != "a" || len(victims) != 1 || victims[0].Name != "x" {
			t.Fatalf("got %s %v %v", node, victims, ok)
		}
	}
	after := s.snap.Node("a").Requested.MilliCPU + s.snap.Node("b").Requested.MilliCPU
	if before != after || len(s.snap.Node("a").Pods()) != 1 {
		t.Errorf("snapshot changed: %d -> %d", before, after)
	}
}

func TestCandidateOrder(t *testing.T) {
	pod := func(prio int32) *podInfo {
		return &podInfo{pod: &corev1.Pod{Spec: corev1.PodSpec{Priority: &prio}}}
	}
	tests := []struct {
		name string
		a, b candidate
		want bool
	}{
		{"fewer PDB violations", candidate{victims: []*podInfo{pod(9)}, pdbViolations: 0}, candidate{victims: []*podInfo{pod(1)}, pdbViolations: 1}, true},
		{"lower highest priority", candidate{victims: []*podInfo{pod(1), pod(2)}}, candidate{victims: []*podInfo{pod(3)}}, true},
		{"lower sum", candidate{victims: []*podInfo{pod(-5), pod(3)}}, candidate{victims: []*podInfo{pod(3), pod(3)}}, true},
		{"fewer victims", candidate{victims: []*podInfo{pod(3)}}, candidate{victims: []*podInfo{pod(3), pod(-1 << 31)}}, true},
		{"equal is not better", candidate{victims: []*podInfo{pod(3)}}, candidate{victims: []*podInfo{pod(3)}}, false},
	}
	for _, tt := range tests {
		if got := better(&tt.a, &tt.b); got != tt.want {
			t.Errorf("%s: got %v", tt.name, got)
		}
	}
}

func TestMoreImportant(t *testing.T) {
	early, late := metav1.Unix(100, 0), metav1.Unix(200, 0)
	mk := func(prio int32, start metav1.Time) *podInfo {
		return &podInfo{pod: &corev1.Pod{Spec: corev1.PodSpec{Priority: &prio}, Status: corev1.PodStatus{StartTime: &start}}}
	}
	if moreImportant(mk(5, late), mk(1, early)) >= 0 || moreImportant(mk(1, early), mk(1, late)) >= 0 || moreImportant(mk(1, late), mk(1, early)) <= 0 {
		t.Error("wrong order")
	}
}

func TestStddev(t *testing.T) {
	tests := []struct {
		xs   []float64
		want float64
	}{
		{nil, 0}, {[]float64{0.5}, 0}, {[]float64{0.2, 0.6}, 0.2}, {[]float64{0, 0.5, 1}, math.Sqrt(1.0 / 6)},
	}
	for _, tt := range tests {
		if got := stddev(tt.xs); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("stddev(%v) = %v, want %v", tt.xs, got, tt.want)
		}
	}
}

func TestNewSnapshotOptions(t *testing.T) {
	nodes := []*corev1.Node{makeNode(t, "n", nil)}
	snap := NewSnapshot(nodes, []*corev1.Pod{makePod(t, "pending", map[string]string{}), makePod(t, "elsewhere", map[string]string{"node": "gone"})},
		WithNamespaces([]*corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "ns1", Labels: map[string]string{"a": "b"}}}}),
		WithVolumes([]*corev1.PersistentVolume{{ObjectMeta: metav1.ObjectMeta{Name: "pv"}}},
			[]*corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "ns1"}}}))
	if snap.Namespaces["ns1"]["a"] != "b" || snap.pvs["pv"] == nil || snap.pvcs["ns1/c"] == nil || len(snap.podNode) != 0 {
		t.Errorf("options or pod filtering not applied: %+v", snap)
	}
}
