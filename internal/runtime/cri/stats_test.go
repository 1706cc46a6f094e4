package cri

import (
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

func TestContainerStatsFromCRI(t *testing.T) {
	u := func(v uint64) *runtimeapi.UInt64Value { return &runtimeapi.UInt64Value{Value: v} }
	tests := []struct {
		name string
		in   *runtimeapi.ContainerStats
		want runtime.ContainerStats
	}{{
		name: "full",
		in: &runtimeapi.ContainerStats{
			Attributes:    &runtimeapi.ContainerAttributes{Id: "c1"},
			Cpu:           &runtimeapi.CpuUsage{Timestamp: 2e9, UsageCoreNanoSeconds: u(5e9), UsageNanoCores: u(25e7)},
			Memory:        &runtimeapi.MemoryUsage{Timestamp: 3e9, WorkingSetBytes: u(100), UsageBytes: u(150), RssBytes: u(80)},
			WritableLayer: &runtimeapi.FilesystemUsage{UsedBytes: u(4096)},
		},
		want: runtime.ContainerStats{ID: "c1", Timestamp: time.Unix(2, 0), CPUUsageCoreNanoSeconds: 5e9, CPUUsageNanoCores: 25e7,
			MemoryWorkingSetBytes: 100, MemoryUsageBytes: 150, MemoryRSSBytes: 80, WritableLayerBytes: 4096},
	}, {
		name: "no cpu: memory timestamp, zero rate",
		in: &runtimeapi.ContainerStats{
			Attributes: &runtimeapi.ContainerAttributes{Id: "c2"},
			Memory:     &runtimeapi.MemoryUsage{Timestamp: 3e9, WorkingSetBytes: u(7)},
		},
		want: runtime.ContainerStats{ID: "c2", Timestamp: time.Unix(3, 0), MemoryWorkingSetBytes: 7},
	}, {
		name: "nothing but the id",
		in:   &runtimeapi.ContainerStats{Attributes: &runtimeapi.ContainerAttributes{Id: "c3"}},
		want: runtime.ContainerStats{ID: "c3"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := containerStatsFromCRI(tt.in)
			if !got.Timestamp.Equal(tt.want.Timestamp) {
				t.Fatalf("timestamp %v, want %v", got.Timestamp, tt.want.Timestamp)
			}
			got.Timestamp, tt.want.Timestamp = time.Time{}, time.Time{}
			if *got != tt.want {
				t.Fatalf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}
