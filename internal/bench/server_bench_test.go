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

// startBenchServer starts an in-process server with embedded etcd and
// returns a clientset without client-side rate limits, speaking JSON or
// protobuf.
func startBenchServer(b testing.TB, protobuf bool) (context.Context, kubernetes.Interface) {
	b.Helper()
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
	if protobuf {
		cfg.ContentType = "application/vnd.kubernetes.protobuf"
		cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "bench"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	return ctx, cs
}

// BenchmarkListPods lists 5000 pods, consistently (resourceVersion unset)
// and from the cache (resourceVersion=0), reading the raw body.
func BenchmarkListPods(b *testing.B) {
	ctx, cs := startBenchServer(b, false)
	const pods = 5000
	if _, err := bench.CreatePods(ctx, cs, "bench", "pod", 32, pods); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, rv string }{{"consistent", ""}, {"rv0", "0"}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				req := cs.CoreV1().RESTClient().Get().Namespace("bench").Resource("pods")
				if tc.rv != "" {
					req = req.Param("resourceVersion", tc.rv)
				}
				body, err := req.DoRaw(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if len(body) < pods*1000 {
					b.Fatalf("list of %d bytes, want at least %d", len(body), pods*1000)
				}
			}
		})
	}
}
