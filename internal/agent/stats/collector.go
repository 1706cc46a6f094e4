package stats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime"
)

// Defaults of Config.
const (
	DefaultInterval  = 10 * time.Second
	DefaultMinWindow = time.Second
)

// nodeKey is the rate tracker's key of the node's CPU time.
const nodeKey = "\x00node"

// Config configures a Collector.
type Config struct {
	// NodeName names the node in summaries.
	NodeName string
	// Runtime reports the containers and their usage.
	Runtime runtime.Runtime
	// Host measures the node's filesystems (agent.HostStats); nil, or an
	// error of it, leaves them out.
	Host agent.StatsSource
	// ProcRoot and CgroupRoot are /proc and /sys/fs/cgroup when empty.
	ProcRoot, CgroupRoot string
	// Interval is how often Run samples (DefaultInterval); MinWindow the
	// shortest span a CPU rate is computed over (DefaultMinWindow).
	Interval, MinWindow time.Duration
	// Clock is the time source; nil is the real clock.
	Clock clock.WithTicker
	// Logger receives sampling errors of Run; nil discards them.
	Logger *slog.Logger
}

// Collector measures the node and its pods. It is safe for concurrent
// use.
type Collector struct {
	cfg   Config
	start time.Time
	rates *rateTracker
	// mu serialises samples, so that forgetting unseen keys sees whole
	// samples.
	mu sync.Mutex
}

// New checks cfg and builds a Collector.
func New(cfg Config) (*Collector, error) {
	if cfg.Runtime == nil {
		return nil, errors.New("stats: Runtime is required")
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	if cfg.CgroupRoot == "" {
		cfg.CgroupRoot = "/sys/fs/cgroup"
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MinWindow <= 0 {
		cfg.MinWindow = DefaultMinWindow
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Collector{cfg: cfg, start: cfg.Clock.Now(), rates: newRateTracker(cfg.MinWindow)}, nil
}

// Run samples every Interval until ctx ends, so that CPU rates are known
// when Summary is asked.
func (c *Collector) Run(ctx context.Context) {
	t := c.cfg.Clock.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		if _, err := c.Summary(ctx); err != nil && ctx.Err() == nil {
			c.cfg.Logger.Debug("sampling node stats", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// Summary measures the node and its pods now.
func (c *Collector) Summary(ctx context.Context) (*Summary, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, err := c.listRuntime(ctx)
	if err != nil {
		return nil, err
	}
	node, err := c.nodeStats(ctx, in.Now)
	if err != nil {
		return nil, err
	}
	pods := podStats(in, func(id string, s cpuSample) (uint64, bool) { return c.rates.observe(id, s) })
	c.rates.forgetUnseen()
	return &Summary{Node: node, Pods: pods}, nil
}

func (c *Collector) listRuntime(ctx context.Context) (podsInput, error) {
	sbs, err := c.cfg.Runtime.ListPodSandbox(ctx)
	if err != nil {
		return podsInput{}, fmt.Errorf("stats: listing sandboxes: %w", err)
	}
	cs, err := c.cfg.Runtime.ListContainers(ctx)
	if err != nil {
		return podsInput{}, fmt.Errorf("stats: listing containers: %w", err)
	}
	st, err := c.cfg.Runtime.ListContainerStats(ctx)
	if err != nil {
		return podsInput{}, fmt.Errorf("stats: listing container stats: %w", err)
	}
	return podsInput{Sandboxes: sbs, Containers: cs, Stats: st, Now: c.cfg.Clock.Now()}, nil
}

// nodeStats measures the node's CPU, memory and filesystems at now.
func (c *Collector) nodeStats(ctx context.Context, now time.Time) (NodeStats, error) {
	t := metav1.NewTime(now)
	n := NodeStats{NodeName: c.cfg.NodeName, StartTime: metav1.NewTime(c.start)}
	busy, err := hostCPUTime(c.cfg.ProcRoot, c.cfg.CgroupRoot)
	if err != nil {
		return n, fmt.Errorf("stats: %w", err)
	}
	n.CPU = &CPUStats{Time: t, UsageCoreNanoSeconds: ptr(busy)}
	if r, ok := c.rates.observe(nodeKey, cpuSample{at: now, total: busy}); ok {
		n.CPU.UsageNanoCores = ptr(r)
	}
	mem, err := hostMemoryUse(c.cfg.ProcRoot, c.cfg.CgroupRoot)
	if err != nil {
		return n, fmt.Errorf("stats: %w", err)
	}
	n.Memory = &MemoryStats{Time: t, AvailableBytes: ptr(mem.total - min(mem.workingSet, mem.total)),
		UsageBytes: ptr(mem.usage), WorkingSetBytes: ptr(mem.workingSet), RSSBytes: ptr(mem.rss)}
	if c.cfg.Host == nil {
		return n, nil
	}
	host, err := c.cfg.Host.NodeStats(ctx)
	if err != nil {
		// CPU and memory are what the metrics API needs: serve them.
		c.cfg.Logger.Debug("measuring the node's filesystems", "err", err)
		return n, nil
	}
	n.Fs = fsStats(t, host.NodeFS)
	n.Runtime = &RuntimeStats{ImageFs: fsStats(t, host.ImageFS)}
	return n, nil
}

func fsStats(t metav1.Time, a agent.Amount) *FsStats {
	avail, capacity := uint64(max(a.Available, 0)), uint64(max(a.Capacity, 0))
	return &FsStats{Time: t, AvailableBytes: ptr(avail), CapacityBytes: ptr(capacity), UsedBytes: ptr(capacity - min(avail, capacity))}
}
