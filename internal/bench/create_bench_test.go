package bench_test

import (
	"syscall"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/bench"
)

// BenchmarkCreatePods creates b.N pods from 32 workers against an in-process
// server with embedded etcd, with a JSON and with a protobuf client.
func BenchmarkCreatePods(b *testing.B) {
	for _, ct := range []string{"json", "protobuf"} {
		b.Run(ct, func(b *testing.B) {
			ctx, cs := startBenchServer(b, ct == "protobuf")
			cpu0 := processCPU(b)
			b.ResetTimer()
			stats, err := bench.CreatePods(ctx, cs, "bench", "pod", 32, b.N)
			b.StopTimer()
			// Wall time depends on what else the machine runs; CPU time
			// (client, server and etcd together) much less.
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
			if err != nil {
				b.Fatal(err)
			}
			if len(stats.Latencies) != b.N {
				b.Fatalf("created %d pods, want %d", len(stats.Latencies), b.N)
			}
			b.ReportMetric(stats.PerSecond(), "pods/s")
		})
	}
}

// processCPU is the user and system CPU time used by this process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
