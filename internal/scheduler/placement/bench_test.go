package placement

import (
	"fmt"
	"math/rand"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// benchCluster is the scheduler benchmark's shape: 5,000 nodes in 3 zones
// with 1,000 pods already placed.
func benchCluster(b *testing.B) *Snapshot {
	b.Helper()
	snap := uniformCluster(b, 5000)
	for i := range 1000 {
		p := makePod(nil, fmt.Sprintf("placed-%d", i), map[string]string{
			"cpu": "100m", "mem": "128Mi", "labels": "app=placed", "node": snap.Nodes[i*5].Name()})
		snap.AddPod(p)
	}
	return snap
}

func benchSchedule(b *testing.B, pod *corev1.Pod, cfg Config, assume bool) {
	snap := benchCluster(b)
	rnd := rand.New(rand.NewSource(1))
	var assumed []*corev1.Pod
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		p := pod
		if len(assumed) == 4000 { // keep room for anti-affinity: one per node
			b.StopTimer()
			for _, a := range assumed {
				snap.RemovePod(a)
			}
			assumed = assumed[:0]
			b.StartTimer()
		}
		if assume {
			p = pod.DeepCopy()
			p.Name = fmt.Sprintf("%s-%d", pod.Name, i)
		}
		res, err := Schedule(p, snap, cfg, rnd)
		if err != nil {
			b.Fatal(err)
		}
		if assume {
			snap.Assume(p, res.Node)
			assumed = append(assumed, p)
		}
	}
}

func simplePod() *corev1.Pod {
	return makePod(nil, "simple", map[string]string{"cpu": "100m", "mem": "128Mi", "labels": "app=bench"})
}

// BenchmarkScheduleSimple5000 is one simple pod over 5,000 nodes with
// upstream's adaptive sampling (10% of nodes at this size).
func BenchmarkScheduleSimple5000(b *testing.B) {
	benchSchedule(b, simplePod(), Config{}, false)
}

// BenchmarkScheduleSimple5000AllNodes filters and scores every node.
func BenchmarkScheduleSimple5000AllNodes(b *testing.B) {
	benchSchedule(b, simplePod(), Config{PercentageOfNodesToScore: 100}, false)
}

// BenchmarkScheduleSimple5000Assume binds each pod, as the loop does.
func BenchmarkScheduleSimple5000Assume(b *testing.B) {
	benchSchedule(b, simplePod(), Config{}, true)
}

// BenchmarkScheduleAntiAffinity5000 binds pods that avoid each other per host.
func BenchmarkScheduleAntiAffinity5000(b *testing.B) {
	p := simplePod()
	p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			TopologyKey: "kubernetes.io/hostname", LabelSelector: labelSelector("app", "bench")}}}}
	benchSchedule(b, p, Config{}, true)
}

// BenchmarkScheduleSpread5000 binds pods spread over zones and hosts.
func BenchmarkScheduleSpread5000(b *testing.B) {
	p := simplePod()
	for _, key := range []string{"zone", "kubernetes.io/hostname"} {
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: labelSelector("app", "bench")})
	}
	benchSchedule(b, p, Config{}, true)
}

func labelSelector(k, v string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{k: v}}
}
