package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// lockedBuffer is a bytes.Buffer safe to read while the backend writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBackendWritesJSONLines(t *testing.T) {
	var out lockedBuffer
	b := NewBackend(&out, 4)
	at := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.UTC)
	for i := range 6 { // two more than fit: dropped and counted
		if ok := b.Process(&Event{Kind: "Event", AuditID: string(rune('a' + i)), Stage: StageResponseComplete, StageTimestamp: MicroTime(at)}); ok != (i < 4) {
			t.Fatalf("Process #%d = %v", i, ok)
		}
	}
	if got := counterValue(t, b.dropped); got != 2 {
		t.Fatalf("dropped = %v, want 2", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run drains the queue and returns
	if err := b.Run(ctx); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(lines), out.String())
	}
	var e Event
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.AuditID != "a" || !strings.Contains(lines[0], `"stageTimestamp":"2026-11-23T10:00:00.123456Z"`) {
		t.Fatalf("first line %s", lines[0])
	}
	if got := counterValue(t, b.written); got != 4 {
		t.Fatalf("written = %v, want 4", got)
	}
}

func TestRotatingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f, err := OpenRotatingFile(path, RotateOptions{MaxBackups: 2, MaxAgeDays: 3, maxBytes: 100}, clock)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 39) + "\n") // 40 bytes: two fit in 100
	write := func(n int) {
		for range n {
			if _, err := f.Write(line); err != nil {
				t.Fatal(err)
			}
		}
	}
	write(2) // 80 bytes, no rotation
	if got := backupNames(t, dir); len(got) != 0 {
		t.Fatalf("backups before the limit: %v", got)
	}
	write(1) // would be 120: rotates first
	now = now.Add(time.Hour)
	write(2) // rotates again
	now = now.Add(time.Hour)
	write(2) // third rotation: only two backups kept
	got := backupNames(t, dir)
	want := []string{"audit-2026-11-01T01-00-00.000.log", "audit-2026-11-01T02-00-00.000.log"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("backups %v, want %v", got, want)
	}
	if fi, _ := os.Stat(path); fi.Size() != 40 {
		t.Fatalf("current file size %d, want 40", fi.Size())
	}
	// Age: five days later, the next rotation removes both old backups.
	now = now.Add(5 * 24 * time.Hour)
	write(2)
	if got := backupNames(t, dir); len(got) != 1 || !strings.Contains(got[0], "2026-11-06") {
		t.Fatalf("after max age: %v", got)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func backupNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != "audit.log" {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestAnnotations(t *testing.T) {
	AddAnnotation(context.Background(), "k", "v") // no holder: nothing happens
	ctx, a := WithAnnotations(context.Background())
	if a.Snapshot() != nil {
		t.Fatal("fresh holder is not empty")
	}
	AddAnnotation(ctx, "authorization.k8s.io/decision", "allow")
	AddAnnotation(ctx, "authorization.k8s.io/decision", "forbid") // first wins
	AddAnnotation(ctx, "pod-security.kubernetes.io/enforce-policy", "restricted:latest")
	got := a.Snapshot()
	if len(got) != 2 || got["authorization.k8s.io/decision"] != "allow" {
		t.Fatalf("annotations %v", got)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
