package bench_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/cli"
)

// TestBenchAPICommand runs `skiff bench api` with tiny numbers against a real
// child server and checks that the table has every row with a value.
func TestBenchAPICommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	t.Setenv(childEnv, "1")
	out := filepath.Join(t.TempDir(), "bench.md")
	var stdout, stderr bytes.Buffer
	root := cli.NewRoot(&stdout, &stderr)
	root.SetArgs([]string{"bench", "api", "--pods", "50", "--workers", "4", "--watchers", "10",
		"--changes", "3", "--settle", "100ms", "--out", out})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("bench api: %v\nprogress:\n%s", err, stderr.String())
	}
	written, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("reading --out: %v", err)
	}
	if string(written) != stdout.String() {
		t.Errorf("--out file differs from stdout:\n%s\nvs\n%s", written, stdout.String())
	}
	wantRows := []string{
		"/readyz passing after process start",
		"Server RSS, idle",
		"Pod creates/s, 4 workers, 50 pods, protobuf (",
		"Pod creates/s, 4 workers, 12 more pods, JSON",
		"Server CPU time per create (protobuf; JSON)",
		"Raw etcd puts/s, 4 workers, ",
		"Raw etcd puts/s, 4 workers, ",
		"API creates / raw etcd puts (stored size; sent size)",
		"Create latency p50 / p99 under load (4 workers)",
		"Create latency p50 / p99, one client, 50 pods exist",
		"Get latency p50 / p99, one client",
		"List (limit=500) latency p50 / p99, one client",
		"List all 50 pods, resourceVersion unset",
		"List all 50 pods, resourceVersion=0",
		"Server RSS holding 50 pods",
		"Server peak RSS (VmHWM) over the run",
		"One update reaching all 10 watchers, p50 / p99 of 3",
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != len(wantRows)+2 {
		t.Fatalf("table has %d lines, want %d:\n%s", len(lines), len(wantRows)+2, stdout.String())
	}
	for i, want := range wantRows {
		cells := strings.Split(strings.Trim(lines[i+2], "| "), " | ")
		if len(cells) != 3 || !strings.HasPrefix(cells[0], want) {
			t.Errorf("row %d = %q, want a measurement starting with %q", i, lines[i+2], want)
			continue
		}
		if v := cells[1]; v == "" || strings.HasPrefix(v, "0 ") || strings.HasPrefix(v, "0.00 ") || v == "0/s" || v == "0%" {
			t.Errorf("row %q has no measured value: %q", want, v)
		}
	}
}
