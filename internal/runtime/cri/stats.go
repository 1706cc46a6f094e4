package cri

import (
	"context"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// ListContainerStats asks the runtime for every container's usage.
// containerd 1.6 fills usage_nano_cores only from its second sample of a
// container; a zero rate is left for the caller to derive.
func (r *Runtime) ListContainerStats(ctx context.Context) ([]*runtime.ContainerStats, error) {
	resp, err := r.rt.ListContainerStats(ctx, &runtimeapi.ListContainerStatsRequest{})
	if err != nil {
		return nil, wrap(err, "list container stats")
	}
	out := make([]*runtime.ContainerStats, 0, len(resp.GetStats()))
	for _, s := range resp.GetStats() {
		if s.GetAttributes().GetId() == "" {
			continue
		}
		out = append(out, containerStatsFromCRI(s))
	}
	return out, nil
}

// containerStatsFromCRI converts one CRI ContainerStats; missing values
// are zero. The timestamp is the CPU sample's, else the memory sample's.
func containerStatsFromCRI(s *runtimeapi.ContainerStats) *runtime.ContainerStats {
	cpu, mem := s.GetCpu(), s.GetMemory()
	ts := cpu.GetTimestamp()
	if ts == 0 {
		ts = mem.GetTimestamp()
	}
	out := &runtime.ContainerStats{
		ID:                      s.GetAttributes().GetId(),
		CPUUsageCoreNanoSeconds: cpu.GetUsageCoreNanoSeconds().GetValue(),
		CPUUsageNanoCores:       cpu.GetUsageNanoCores().GetValue(),
		MemoryWorkingSetBytes:   mem.GetWorkingSetBytes().GetValue(),
		MemoryUsageBytes:        mem.GetUsageBytes().GetValue(),
		MemoryRSSBytes:          mem.GetRssBytes().GetValue(),
		WritableLayerBytes:      s.GetWritableLayer().GetUsedBytes().GetValue(),
	}
	if ts != 0 {
		out.Timestamp = time.Unix(0, ts)
	}
	return out
}
