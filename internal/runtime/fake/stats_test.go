package fake

import (
	"context"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/skiffkube/skiff/internal/runtime"
)

func TestQuantityOf(t *testing.T) {
	tests := []struct {
		name  string
		ann   map[string]string
		key   string
		scale int
		want  uint64
	}{
		{name: "absent", key: AnnotationCPU, scale: 9, want: 0},
		{name: "millicores to nanocores", ann: map[string]string{AnnotationCPU: "250m"}, key: AnnotationCPU, scale: 9, want: 250_000_000},
		{name: "whole cores", ann: map[string]string{AnnotationCPU: "2"}, key: AnnotationCPU, scale: 9, want: 2_000_000_000},
		{name: "binary memory", ann: map[string]string{AnnotationMemory: "64Mi"}, key: AnnotationMemory, want: 64 << 20},
		{name: "container's own wins", ann: map[string]string{AnnotationMemory: "1Mi", AnnotationMemory + ".c": "2Mi"}, key: AnnotationMemory, want: 2 << 20},
		{name: "invalid", ann: map[string]string{AnnotationMemory: "lots"}, key: AnnotationMemory, want: 0},
		{name: "negative", ann: map[string]string{AnnotationMemory: "-1"}, key: AnnotationMemory, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantityOf(tt.ann, tt.key, "c", tt.scale); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestListContainerStats(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakePassiveClock(t0)
	r := New(Config{Clock: clk})
	sbCfg := &runtime.PodSandboxConfig{Metadata: runtime.PodSandboxMetadata{Name: "p", Namespace: "ns", UID: "u"},
		Annotations: map[string]string{AnnotationCPU: "500m", AnnotationMemory: "10Mi", AnnotationRunSeconds + ".short": "1"}}
	sb, err := r.RunPodSandbox(ctx, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, name := range []string{"main", "short", "created"} {
		id, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: name}}, sbCfg)
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = name
		if name != "created" {
			if err := r.StartContainer(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	clk.SetTime(t0.Add(4 * time.Second))
	stats, err := r.ListContainerStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 1 || ids[stats[0].ID] != "main" {
		t.Fatalf("stats of %d containers (%+v), want main only", len(stats), stats)
	}
	want := runtime.ContainerStats{ID: stats[0].ID, Timestamp: t0.Add(4 * time.Second), CPUUsageCoreNanoSeconds: 2e9, CPUUsageNanoCores: 5e8,
		MemoryWorkingSetBytes: 10 << 20, MemoryUsageBytes: 10 << 20, MemoryRSSBytes: 10 << 20}
	if *stats[0] != want {
		t.Errorf("got %+v\nwant %+v", *stats[0], want)
	}
}
