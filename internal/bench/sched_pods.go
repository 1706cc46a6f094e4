package bench

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels of the scheduler scenarios' pods.
const (
	groupLabel   = "bench-group"
	hostnameKey  = "kubernetes.io/hostname"
	zoneKey      = "topology.kubernetes.io/zone"
	antiGroup    = "anti"
	spreadGroup  = "spread"
	nsPrefix     = "sched-"
	measuredName = "pod"
	initName     = "init"
)

// scenario is one scheduler benchmark workload.
type scenario struct {
	name string
	// init pods are placed first (not timed); measured pods are timed.
	init, measured int
	// backlog creates the measured pods before the scheduler runs, so the
	// figure is the scheduler's drain rate rather than the create rate.
	backlog bool
	// pod builds one pod of the workload.
	pod func(namespace, name string) *corev1.Pod
}

func (s scenario) namespace() string { return nsPrefix + s.name }

// scenarios returns the configured workloads in order.
func (c SchedConfig) scenarios() []scenario {
	all := map[string]scenario{
		ScenarioBasic:        {name: ScenarioBasic, init: c.InitPods, measured: c.Pods, pod: BenchPod},
		ScenarioBacklog:      {name: ScenarioBacklog, measured: c.Pods, backlog: true, pod: BenchPod},
		ScenarioAntiAffinity: {name: ScenarioAntiAffinity, init: c.antiAffinityInit(), measured: c.AntiAffinityPods, pod: antiAffinityPod},
		ScenarioSpread:       {name: ScenarioSpread, init: c.InitPods, measured: c.SpreadPods, pod: spreadPod},
	}
	out := make([]scenario, 0, len(c.Scenarios))
	for _, name := range c.Scenarios {
		out = append(out, all[name])
	}
	return out
}

// antiAffinityPod is a BenchPod that must not share a node with another
// pod of its group.
func antiAffinityPod(namespace, name string) *corev1.Pod {
	p := BenchPod(namespace, name)
	p.Labels[groupLabel] = antiGroup
	p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{groupLabel: antiGroup}},
			TopologyKey:   hostnameKey,
		}},
	}}
	return p
}

// spreadPod is a BenchPod spread evenly over zones (a hard constraint)
// and, as far as possible, over nodes (a soft one).
func spreadPod(namespace, name string) *corev1.Pod {
	p := BenchPod(namespace, name)
	p.Labels[groupLabel] = spreadGroup
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{groupLabel: spreadGroup}}
	p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{
		{MaxSkew: 1, TopologyKey: zoneKey, WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: sel},
		{MaxSkew: 1, TopologyKey: hostnameKey, WhenUnsatisfiable: corev1.ScheduleAnyway, LabelSelector: sel},
	}
	return p
}
