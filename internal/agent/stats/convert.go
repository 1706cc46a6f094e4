package stats

import (
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// rateFunc returns the CPU rate of a container (by ID) given its sample.
type rateFunc func(id string, s cpuSample) (uint64, bool)

// podsInput is what the runtime reports, listed at one time.
type podsInput struct {
	Sandboxes  []*runtime.PodSandbox
	Containers []*runtime.Container
	Stats      []*runtime.ContainerStats
	// Now stamps samples the runtime did not time.
	Now time.Time
}

// podStats builds the pods of a summary: one per ready sandbox, with its
// running containers that have stats, sorted by namespace and name. A
// container's CPU rate is the runtime's, else rate's.
func podStats(in podsInput, rate rateFunc) []PodStats {
	byID := make(map[string]*runtime.ContainerStats, len(in.Stats))
	for _, s := range in.Stats {
		byID[s.ID] = s
	}
	pods := map[string]*PodStats{} // by sandbox ID
	for _, sb := range in.Sandboxes {
		if sb.State != runtime.SandboxReady {
			continue
		}
		pods[sb.ID] = &PodStats{
			PodRef:     PodReference{Name: sb.Metadata.Name, Namespace: sb.Metadata.Namespace, UID: sb.Metadata.UID},
			StartTime:  metav1.NewTime(sb.CreatedAt),
			Containers: []ContainerStats{},
		}
	}
	for _, c := range in.Containers {
		p, s := pods[c.PodSandboxID], byID[c.ID]
		if p == nil || s == nil || c.State != runtime.ContainerRunning {
			continue
		}
		p.Containers = append(p.Containers, containerStats(c, s, in.Now, rate))
	}
	out := make([]PodStats, 0, len(pods))
	for _, p := range pods {
		sort.Slice(p.Containers, func(i, j int) bool { return p.Containers[i].Name < p.Containers[j].Name })
		p.CPU, p.Memory = sumContainers(p.Containers)
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].PodRef, out[j].PodRef
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.UID < b.UID
	})
	return out
}

// containerStats converts one container's runtime stats.
func containerStats(c *runtime.Container, s *runtime.ContainerStats, now time.Time, rate rateFunc) ContainerStats {
	at := s.Timestamp
	if at.IsZero() {
		at = now
	}
	t := metav1.NewTime(at)
	cpu := &CPUStats{Time: t, UsageCoreNanoSeconds: ptr(s.CPUUsageCoreNanoSeconds)}
	if s.CPUUsageNanoCores != 0 {
		cpu.UsageNanoCores = ptr(s.CPUUsageNanoCores)
		// Keep the tracker's sample current for when the runtime stops
		// computing rates (it never does, in practice).
		rate(c.ID, cpuSample{at: at, total: s.CPUUsageCoreNanoSeconds})
	} else if r, ok := rate(c.ID, cpuSample{at: at, total: s.CPUUsageCoreNanoSeconds}); ok {
		cpu.UsageNanoCores = ptr(r)
	}
	return ContainerStats{
		Name:      c.Metadata.Name,
		StartTime: metav1.NewTime(c.CreatedAt),
		CPU:       cpu,
		Memory: &MemoryStats{Time: t, UsageBytes: ptr(s.MemoryUsageBytes), WorkingSetBytes: ptr(s.MemoryWorkingSetBytes),
			RSSBytes: ptr(s.MemoryRSSBytes)},
		Rootfs: &FsStats{Time: t, UsedBytes: ptr(s.WritableLayerBytes)},
	}
}

// sumContainers adds the containers' usage up for their pod, at the
// newest container sample's time. The pod has a CPU rate only when every
// container has one; nil without containers.
func sumContainers(cs []ContainerStats) (*CPUStats, *MemoryStats) {
	if len(cs) == 0 {
		return nil, nil
	}
	var t metav1.Time
	var total, rate, ws, usage, rss uint64
	allRates := true
	for _, c := range cs {
		if c.CPU.Time.After(t.Time) {
			t = c.CPU.Time
		}
		total += *c.CPU.UsageCoreNanoSeconds
		if c.CPU.UsageNanoCores == nil {
			allRates = false
		} else {
			rate += *c.CPU.UsageNanoCores
		}
		ws += *c.Memory.WorkingSetBytes
		usage += *c.Memory.UsageBytes
		rss += *c.Memory.RSSBytes
	}
	cpu := &CPUStats{Time: t, UsageCoreNanoSeconds: ptr(total)}
	if allRates {
		cpu.UsageNanoCores = ptr(rate)
	}
	return cpu, &MemoryStats{Time: t, WorkingSetBytes: ptr(ws), UsageBytes: ptr(usage), RSSBytes: ptr(rss)}
}
