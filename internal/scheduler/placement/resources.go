package placement

import (
	corev1 "k8s.io/api/core/v1"
)

// Defaults used when scoring pods that request no cpu or memory, so that
// best-effort pods still spread (upstream uses the same figures).
const (
	defaultMilliCPURequest int64 = 100               // 0.1 core
	defaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resources is an amount of schedulable resources.
type Resources struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	// Pods is the number of pods (allocatable) or 1 per pod (requested).
	Pods int64
	// Scalar holds extended resources and hugepages, by name.
	Scalar map[corev1.ResourceName]int64
}

// add adds the quantities in rl to r.
func (r *Resources) addList(rl corev1.ResourceList) {
	for name, q := range rl {
		switch name {
		case corev1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.Memory += q.Value()
		case corev1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		case corev1.ResourcePods:
			r.Pods += q.Value()
		default:
			if isScalar(name) {
				if r.Scalar == nil {
					r.Scalar = map[corev1.ResourceName]int64{}
				}
				r.Scalar[name] += q.Value()
			}
		}
	}
}

// isScalar reports whether name is an extended resource or hugepages, the
// resources checked besides cpu, memory, ephemeral-storage and pods.
func isScalar(name corev1.ResourceName) bool {
	s := string(name)
	if len(s) > 10 && s[:10] == "hugepages-" {
		return true
	}
	// Extended resources are domain-qualified and not in kubernetes.io/
	// (except the requests.* quota names, which never appear in pods).
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return !(len(s) > 14 && s[:14] == "kubernetes.io/")
		}
	}
	return false
}

// Add adds o to r.
func (r *Resources) Add(o Resources) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.Pods += o.Pods
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		r.Scalar[k] += v
	}
}

// Sub subtracts o from r.
func (r *Resources) Sub(o Resources) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.Pods -= o.Pods
	for k, v := range o.Scalar {
		if r.Scalar != nil {
			r.Scalar[k] -= v
		}
	}
}

// max raises each quantity of r to at least the one in o.
func (r *Resources) max(o Resources) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.EphemeralStorage = max(r.EphemeralStorage, o.EphemeralStorage)
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		r.Scalar[k] = max(r.Scalar[k], v)
	}
}

func containerRequests(c *corev1.Container) Resources {
	var r Resources
	r.addList(c.Resources.Requests)
	return r
}

func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// PodRequests returns the pod's effective requests as the scheduler counts
// them: the larger of (regular containers + sidecars) and the peak needed
// while init containers run (each init container plus the sidecars started
// before it), then pod-level requests for cpu/memory if set, plus overhead.
// Pods is always 1.
func PodRequests(pod *corev1.Pod) Resources {
	var reqs Resources
	for i := range pod.Spec.Containers {
		reqs.Add(containerRequests(&pod.Spec.Containers[i]))
	}
	var sidecars, initPeak Resources
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cr := containerRequests(c)
		if isSidecar(c) {
			reqs.Add(cr)
			sidecars.Add(cr)
			initPeak.max(sidecars)
			continue
		}
		cr.Add(sidecars)
		initPeak.max(cr)
	}
	reqs.max(initPeak)
	if pr := pod.Spec.Resources; pr != nil {
		if q, ok := pr.Requests[corev1.ResourceCPU]; ok {
			reqs.MilliCPU = q.MilliValue()
		}
		if q, ok := pr.Requests[corev1.ResourceMemory]; ok {
			reqs.Memory = q.Value()
		}
	}
	reqs.addList(pod.Spec.Overhead)
	reqs.Pods = 1
	return reqs
}

// nonZeroRequests returns the cpu and memory requests used for scoring:
// containers that request nothing count as the upstream defaults.
func nonZeroRequests(pod *corev1.Pod, eff Resources) (milliCPU, memory int64) {
	var cpu, mem int64
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cpu += nonZero(c.Resources.Requests, corev1.ResourceCPU, defaultMilliCPURequest)
		mem += nonZero(c.Resources.Requests, corev1.ResourceMemory, defaultMemoryRequest)
	}
	// Init containers and overhead rarely matter for spreading; take the
	// effective figure when it is larger.
	return max(cpu, eff.MilliCPU), max(mem, eff.Memory)
}

func nonZero(rl corev1.ResourceList, name corev1.ResourceName, def int64) int64 {
	q, ok := rl[name]
	if !ok {
		return def
	}
	if name == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// nodeAllocatable reads a node's allocatable resources.
func nodeAllocatable(n *corev1.Node) Resources {
	var r Resources
	r.addList(n.Status.Allocatable)
	return r
}
