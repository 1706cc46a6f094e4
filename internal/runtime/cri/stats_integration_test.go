package cri_test

import (
	"context"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/runtime"
)

// TestContainerStats checks that containerd reports a running busybox
// container's memory and CPU time over CRI.
func TestContainerStats(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rt := startNode(t, ctx)
	sandboxCfg := &runtime.PodSandboxConfig{
		Metadata:     runtime.PodSandboxMetadata{Name: "stats", Namespace: "default", UID: "uid-stats"},
		LogDirectory: t.TempDir(),
	}
	sandboxID, err := rt.RunPodSandbox(ctx, sandboxCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer removeSandbox(t, rt, sandboxID)
	// Touch some memory and burn a little CPU, then wait.
	id := runContainer(t, ctx, rt, sandboxID, sandboxCfg, &runtime.ContainerConfig{
		Metadata: runtime.ContainerMetadata{Name: "busy"},
		Image:    "busybox",
		Command:  []string{"sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 3600"},
		LogPath:  "busy/0.log",
	})
	var got *runtime.ContainerStats
	waitFor(t, ctx, "container stats with CPU time", func() (bool, error) {
		all, err := rt.ListContainerStats(ctx)
		for _, s := range all {
			if s.ID == id {
				got = s
			}
		}
		return got != nil && got.CPUUsageCoreNanoSeconds > 0 && got.MemoryWorkingSetBytes > 0, err
	})
	t.Logf("stats: %+v", *got)
	if got.MemoryUsageBytes < got.MemoryWorkingSetBytes {
		t.Errorf("usage %d < working set %d", got.MemoryUsageBytes, got.MemoryWorkingSetBytes)
	}
	if got.Timestamp.IsZero() || time.Since(got.Timestamp) > time.Minute {
		t.Errorf("timestamp %v", got.Timestamp)
	}
}
