package stats

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/fake"
)

func TestCollectorSummary(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(t0)
	rt := fake.New(fake.Config{Clock: clk})
	sbCfg := &runtime.PodSandboxConfig{Metadata: runtime.PodSandboxMetadata{Name: "web", Namespace: "default", UID: "u1"},
		Annotations: map[string]string{fake.AnnotationCPU: "250m", fake.AnnotationMemory: "32Mi"}}
	sb, err := rt.RunPodSandbox(ctx, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: "app"}}, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"proc/meminfo": meminfo, "cg/cpuacct/cpuacct.usage": "1000000000\n"})
	host := agent.StatsFunc(func(context.Context) (agent.NodeStats, error) {
		return agent.NodeStats{NodeFS: agent.Amount{Available: 30, Capacity: 100}, ImageFS: agent.Amount{Available: 5, Capacity: 10}}, nil
	})
	c, err := New(Config{NodeName: "n1", Runtime: rt, Host: host, ProcRoot: filepath.Join(root, "proc"), CgroupRoot: filepath.Join(root, "cg"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}

	s, err := c.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Node.NodeName != "n1" || s.Node.CPU.UsageNanoCores != nil || *s.Node.CPU.UsageCoreNanoSeconds != 1e9 {
		t.Errorf("first node CPU %+v: want 1e9 total and no rate yet", s.Node.CPU)
	}
	if *s.Node.Memory.WorkingSetBytes != 409600 || *s.Node.Memory.AvailableBytes != 1024000-409600 {
		t.Errorf("node memory %+v", s.Node.Memory)
	}
	if *s.Node.Fs.UsedBytes != 70 || *s.Node.Runtime.ImageFs.CapacityBytes != 10 {
		t.Errorf("node fs %+v, image fs %+v", s.Node.Fs, s.Node.Runtime.ImageFs)
	}
	if len(s.Pods) != 1 || s.Pods[0].PodRef != (PodReference{Name: "web", Namespace: "default", UID: "u1"}) {
		t.Fatalf("pods %+v", s.Pods)
	}
	p := s.Pods[0]
	if len(p.Containers) != 1 || p.Containers[0].Name != "app" || *p.CPU.UsageNanoCores != 250e6 || *p.Memory.WorkingSetBytes != 32<<20 {
		t.Errorf("pod %+v cpu %+v memory %+v", p, p.CPU, p.Memory)
	}

	// Two seconds later the node has used 3 more CPU-seconds: 1.5 cores.
	clk.Step(2 * time.Second)
	writeFiles(t, root, map[string]string{"cg/cpuacct/cpuacct.usage": "4000000000\n"})
	s, err = c.Summary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Node.CPU.UsageNanoCores; r == nil || *r != 1.5e9 {
		t.Errorf("node rate %v, want 1.5e9", r)
	}
	if !s.Node.CPU.Time.Time.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("node time %v", s.Node.CPU.Time)
	}
	if got := *s.Pods[0].CPU.UsageCoreNanoSeconds; got != 5e8 {
		t.Errorf("pod CPU time %d, want 0.25 cores × 2 s", got)
	}
}

func TestCollectorRun(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"proc/meminfo": meminfo, "cg/cpuacct/cpuacct.usage": "0\n"})
	c, err := New(Config{Runtime: fake.New(fake.Config{Clock: clk}), ProcRoot: filepath.Join(root, "proc"), CgroupRoot: filepath.Join(root, "cg"), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	// Run samples at once, then every interval.
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	writeFiles(t, root, map[string]string{"cg/cpuacct/cpuacct.usage": "20000000000\n"})
	clk.Step(DefaultInterval)
	// A summary right after the tick... the tracker holds the first
	// sample until Run takes its second; Summary at the same instant
	// computes the rate over the interval either way.
	s, err := c.Summary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Node.CPU.UsageNanoCores; r == nil || *r != 2e9 {
		t.Errorf("node rate %v, want 2e9", r)
	}
	cancel()
	<-done
}

func TestCollectorHostFailure(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"proc/meminfo": meminfo, "cg/cpuacct/cpuacct.usage": "5\n"})
	host := agent.StatsFunc(func(context.Context) (agent.NodeStats, error) { return agent.NodeStats{}, context.DeadlineExceeded })
	c, err := New(Config{Runtime: fake.New(fake.Config{}), Host: host, ProcRoot: filepath.Join(root, "proc"), CgroupRoot: filepath.Join(root, "cg")})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Summary(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Node.Fs != nil || s.Node.Memory == nil || *s.Node.CPU.UsageCoreNanoSeconds != 5 {
		t.Errorf("node %+v: want CPU and memory without filesystems", s.Node)
	}
}
