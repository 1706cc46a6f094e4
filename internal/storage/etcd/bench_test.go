package etcd_test

import (
	"context"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/storage/etcd"
	"github.com/skiffkube/skiff/internal/storage/etcd/etcdtest"
)

func TestMeasurePuts(t *testing.T) {
	s := etcdtest.New(t)
	ctx := context.Background()
	rate, err := etcd.MeasurePuts(ctx, s.Client(), 4, 200, 2048)
	if err != nil {
		t.Fatalf("MeasurePuts: %v", err)
	}
	if rate <= 0 {
		t.Fatalf("MeasurePuts rate = %v, want > 0", rate)
	}
	if n, err := s.Count(ctx, "/skiff-bench/"); err != nil || n != 0 {
		t.Fatalf("keys left behind: %d, %v", n, err)
	}
	if _, err := etcd.MeasurePuts(ctx, s.Client(), 0, 10, 10); err == nil {
		t.Fatal("MeasurePuts with no workers succeeded")
	}
}

// BenchmarkRawPut measures raw etcd puts of 2 KiB values from 32 workers on
// an embedded etcd that fsyncs, as a real server does.
func BenchmarkRawPut(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: b.TempDir()})
	cancel()
	if err != nil {
		b.Fatalf("StartEmbedded: %v", err)
	}
	b.Cleanup(func() { _ = e.Close() })
	s := etcdtest.NewStore(b, e.Endpoints())
	b.ResetTimer()
	rate, err := etcd.MeasurePuts(context.Background(), s.Client(), 32, b.N, 2048)
	b.StopTimer()
	if err != nil {
		b.Fatalf("MeasurePuts: %v", err)
	}
	b.ReportMetric(rate, "puts/s")
}
