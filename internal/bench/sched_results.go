package bench

import (
	"fmt"
	"strings"
	"time"
)

// SchedResults are the figures of one RunScheduler.
type SchedResults struct {
	Config SchedConfig
	// LoadBefore and LoadAfter are the machine's load averages (1, 5, 15
	// minutes) before and after the run.
	LoadBefore, LoadAfter string
	// NodesReadyAfter is the time from starting the simulator until every
	// hollow node was Ready.
	NodesReadyAfter time.Duration
	// Scenarios in the order run.
	Scenarios []ScenarioResult
	// ServerPeakRSS, SimPeakRSS and SchedulerPeakRSS are the peak resident
	// memory (VmHWM) of the server, the simulator and the bench process
	// (the scheduler, the pod creators and the watch that times them).
	ServerPeakRSS, SimPeakRSS, SchedulerPeakRSS int64
}

// Upstream's figures for the same workloads, from the issue.
const (
	refBasic  = "680/s CI floor; 282/s on this machine"
	refAffine = "~85–125/s CI floor"
)

// Markdown renders the results as Markdown tables.
func (r *SchedResults) Markdown() string {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "%d hollow nodes (Ready after %s); load average before %s, after %s.\n\n",
		c.Nodes, seconds(r.NodesReadyAfter), r.LoadBefore, r.LoadAfter)
	b.WriteString("| Scenario | Pods placed first | Pods measured | Pods/s scheduled | Create→bound p50 / p99 | Creates/s | Upstream | Target: ≥ 1,000/s, p99 ≤ 1 s |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|:---:|\n")
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s | %s |\n", scenarioLabel(s), s.Init, s.Measured,
			perSecond(s.PodsPerSecond()), latencyCell(s), perSecond(s.CreatesPerSecond), reference(s.Name), verdict(s))
	}
	b.WriteString("\n| Process | Peak RSS (VmHWM) | CPU per measured pod, by scenario |\n")
	b.WriteString("|---|---:|---|\n")
	cpu := func(get func(cpuTimes) time.Duration) string {
		parts := make([]string, len(r.Scenarios))
		for i, s := range r.Scenarios {
			parts[i] = s.Name + " " + millis(get(s.CPU))
		}
		return strings.Join(parts, "; ")
	}
	fmt.Fprintf(&b, "| server (API server + etcd) | %s | %s |\n", megabytes(r.ServerPeakRSS), cpu(func(t cpuTimes) time.Duration { return t.server }))
	fmt.Fprintf(&b, "| scheduler (bench process: scheduler, creators, timing watch) | %s | %s |\n", megabytes(r.SchedulerPeakRSS), cpu(func(t cpuTimes) time.Duration { return t.bench }))
	fmt.Fprintf(&b, "| %d hollow nodes (skiff sim) | %s | %s |\n", c.Nodes, megabytes(r.SimPeakRSS), cpu(func(t cpuTimes) time.Duration { return t.sim }))
	b.WriteString("\nBinds per second:\n\n")
	for _, s := range r.Scenarios {
		fmt.Fprintf(&b, "- %s: %s\n", s.Name, joinInts(s.PerSecond))
	}
	return b.String()
}

func scenarioLabel(s ScenarioResult) string {
	switch s.Name {
	case ScenarioBasic:
		return "basic (first create → last bind)"
	case ScenarioBacklog:
		return "backlog (all created, then scheduled: first → last bind)"
	case ScenarioAntiAffinity:
		return "pod anti-affinity, hostname"
	case ScenarioSpread:
		return "topology spread, zone (hard) + hostname (soft)"
	}
	return s.Name
}

func latencyCell(s ScenarioResult) string {
	if s.Backlog {
		return "–"
	}
	return pair(s.Latency)
}

func reference(name string) string {
	if name == ScenarioBasic || name == ScenarioBacklog {
		return refBasic
	}
	return refAffine
}

// verdict checks the targets; they are set for the basic
// workload, the other scenarios are reported against them for reference.
func verdict(s ScenarioResult) string {
	ok := s.PodsPerSecond() >= schedulerThroughputGoal && (s.Backlog || s.Latency.P99 <= schedulerP99LatencyLimit)
	switch {
	case ok:
		return "pass"
	case s.Name == ScenarioBasic:
		return "**fail**"
	}
	return "below"
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
