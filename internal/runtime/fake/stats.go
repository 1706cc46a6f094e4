package fake

import (
	"context"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Annotations setting what a fake container reports it uses (set them on
// the pod; a ".<container name>" suffix sets one container's).
const (
	// AnnotationCPU is a CPU quantity ("250m"): the container's constant
	// rate of use. Its CPU time grows at that rate from its start.
	AnnotationCPU = "skiff.io/fake-cpu"
	// AnnotationMemory is a memory quantity ("64Mi"): the container's
	// working set, usage and RSS.
	AnnotationMemory = "skiff.io/fake-memory"
)

// ListContainerStats implements runtime.Runtime: every running container
// reports the usage its pod's annotations give it, zero without them.
func (r *Runtime) ListContainerStats(context.Context) ([]*runtime.ContainerStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	out := make([]*runtime.ContainerStats, 0, len(r.containers))
	for _, c := range r.containers {
		r.refresh(c, now)
		if c.State != runtime.ContainerRunning {
			continue
		}
		var annotations map[string]string
		if sb, ok := r.sandboxes[c.PodSandboxID]; ok {
			annotations = sb.Annotations
		}
		nanoCores := quantityOf(annotations, AnnotationCPU, c.Metadata.Name, 9)
		mem := quantityOf(annotations, AnnotationMemory, c.Metadata.Name, 0)
		elapsed := now.Sub(c.startedAt)
		if c.startedAt.IsZero() || elapsed < 0 {
			elapsed = 0
		}
		out = append(out, &runtime.ContainerStats{
			ID:                      c.ID,
			Timestamp:               now,
			CPUUsageCoreNanoSeconds: uint64(float64(nanoCores) * elapsed.Seconds()),
			CPUUsageNanoCores:       nanoCores,
			MemoryWorkingSetBytes:   mem,
			MemoryUsageBytes:        mem,
			MemoryRSSBytes:          mem,
		})
	}
	return out, nil
}

// quantityOf reads the quantity annotation key (the container's own
// first) scaled by 10^scale; 0 when absent or invalid.
func quantityOf(annotations map[string]string, key, container string, scale int) uint64 {
	v, ok := annotations[key+"."+container]
	if !ok {
		v = annotations[key]
	}
	if v == "" {
		return 0
	}
	q, err := resource.ParseQuantity(v)
	if err != nil || q.Sign() < 0 {
		return 0
	}
	return uint64(q.ScaledValue(resource.Scale(-scale)))
}
