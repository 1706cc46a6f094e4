package bench_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/bench"
	"github.com/skiffkube/skiff/internal/server"
)

// BenchmarkCreatePods creates b.N pods from 32 workers against an in-process
// server with embedded etcd.
func BenchmarkCreatePods(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := server.Start(ctx, server.Config{DataDir: b.TempDir(), BindAddress: "127.0.0.1", SecurePort: port,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		cancel()
		b.Fatalf("starting the server: %v", err)
	}
	b.Cleanup(func() {
		cancel()
		if err := s.Wait(); err != nil {
			b.Errorf("server: %v", err)
		}
	})
	cfg := s.AdminConfig()
	cfg.QPS, cfg.ContentType = -1, "application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	stats, err := bench.CreatePods(ctx, cs, "bench", "pod", 32, b.N)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if len(stats.Latencies) != b.N {
		b.Fatalf("created %d pods, want %d", len(stats.Latencies), b.N)
	}
	b.ReportMetric(stats.PerSecond(), "pods/s")
}
