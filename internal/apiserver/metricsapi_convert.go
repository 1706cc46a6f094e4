package apiserver

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

// usage is the resource list of a CPU rate and a memory working set,
// as metrics-server reports them.
func usage(nanoCores, workingSet uint64) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewScaledQuantity(int64(nanoCores), resource.Nano),
		corev1.ResourceMemory: *resource.NewQuantity(int64(workingSet), resource.BinarySI),
	}
}

// nodeMetrics converts a node's summary; false when it lacks the CPU
// rate or the working set (an agent's first sample has no rate).
func nodeMetrics(node *corev1.Node, sum *summary, now time.Time) (metricsv1beta1.NodeMetrics, bool) {
	cpu, mem := sum.Node.CPU, sum.Node.Memory
	if cpu == nil || cpu.UsageNanoCores == nil || mem == nil || mem.WorkingSetBytes == nil {
		return metricsv1beta1.NodeMetrics{}, false
	}
	return metricsv1beta1.NodeMetrics{
		ObjectMeta: metav1.ObjectMeta{Name: node.Name, Labels: node.Labels, CreationTimestamp: metav1.NewTime(now)},
		Timestamp:  cpu.Time,
		Window:     metav1.Duration{Duration: metricsWindow},
		Usage:      usage(*cpu.UsageNanoCores, *mem.WorkingSetBytes),
	}, true
}

// podMetrics converts a pod's summary; false when it has no container or
// a container lacks the CPU rate or the working set, as metrics-server
// leaves such pods out.
func podMetrics(pod *corev1.Pod, ps *summaryPod, now time.Time) (metricsv1beta1.PodMetrics, bool) {
	if len(ps.Containers) == 0 || (ps.PodRef.UID != "" && ps.PodRef.UID != string(pod.UID)) {
		return metricsv1beta1.PodMetrics{}, false
	}
	out := metricsv1beta1.PodMetrics{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, Labels: pod.Labels, CreationTimestamp: metav1.NewTime(now)},
		Window:     metav1.Duration{Duration: metricsWindow},
		Containers: make([]metricsv1beta1.ContainerMetrics, 0, len(ps.Containers)),
	}
	for _, c := range ps.Containers {
		if c.CPU == nil || c.CPU.UsageNanoCores == nil || c.Memory == nil || c.Memory.WorkingSetBytes == nil {
			return metricsv1beta1.PodMetrics{}, false
		}
		if c.CPU.Time.After(out.Timestamp.Time) {
			out.Timestamp = c.CPU.Time
		}
		out.Containers = append(out.Containers, metricsv1beta1.ContainerMetrics{Name: c.Name, Usage: usage(*c.CPU.UsageNanoCores, *c.Memory.WorkingSetBytes)})
	}
	return out, true
}

// podIndex finds pods' summaries by namespace and name.
type podIndex map[[2]string]*summaryPod

func indexPods(nodes map[string]*summary) podIndex {
	idx := podIndex{}
	for _, sum := range nodes {
		for i := range sum.Pods {
			p := &sum.Pods[i]
			idx[[2]string{p.PodRef.Namespace, p.PodRef.Name}] = p
		}
	}
	return idx
}
