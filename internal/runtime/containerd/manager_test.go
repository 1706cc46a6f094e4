package containerd

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	m, err := NewManager(Options{Dir: filepath.Join(t.TempDir(), "containerd"), Snapshotter: SnapshotterNative})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(context.Background()); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("Start = %v, want ErrNotInstalled", err)
	}
}

func TestStartProcessExits(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake-containerd")
	script := "#!/bin/sh\necho \"fake containerd cannot start: $*\" >&2\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	m, err := NewManager(Options{Dir: filepath.Join(dir, "c"), Binary: fake, Snapshotter: SnapshotterNative, ReadyTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") || !strings.Contains(err.Error(), "fake containerd cannot start: --config "+m.ConfigPath()) {
		t.Fatalf("Start = %v, want an early-exit error with the log tail", err)
	}
	<-m.Done()
	cfg, err := os.ReadFile(m.ConfigPath())
	if err != nil || !strings.Contains(string(cfg), `snapshotter = "native"`) {
		t.Errorf("config not written as configured: %v\n%s", err, cfg)
	}
}

func TestNewManagerPaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "containerd")
	m, err := NewManager(Options{Dir: dir, Snapshotter: SnapshotterNative})
	if err != nil {
		t.Fatal(err)
	}
	if m.Socket() != filepath.Join(dir, "containerd.sock") || m.Endpoint() != "unix://"+m.Socket() {
		t.Errorf("socket = %s, endpoint = %s", m.Socket(), m.Endpoint())
	}
	if m.CNIConfDir() != filepath.Join(dir, "cni", "net.d") || m.Snapshotter() != SnapshotterNative {
		t.Errorf("cni dir = %s, snapshotter = %s", m.CNIConfDir(), m.Snapshotter())
	}
	if _, err := NewManager(Options{Dir: "/" + strings.Repeat("x", 120)}); err == nil {
		t.Error("too long a socket path accepted")
	}
}

// TestStartReal starts the system containerd, checks that a second
// manager on the same directory refuses to start, and stops it.
func TestStartReal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts containerd; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containerd")
	}
	if _, err := exec.LookPath("containerd"); err != nil {
		t.Skip("containerd is not installed")
	}
	dir, err := os.MkdirTemp("", "skiff-ctrd-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := NewManager(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if pid, err := os.ReadFile(filepath.Join(dir, "containerd.pid")); err != nil || len(pid) == 0 {
		t.Errorf("pid file: %q, %v", pid, err)
	}
	second, err := NewManager(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Start(ctx); err == nil || !strings.Contains(err.Error(), "already serves") {
		t.Errorf("second Start = %v, want an already-running error", err)
	}
	cancel()
	select {
	case <-m.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("containerd did not stop")
	}
	if err := m.Err(); err != nil {
		t.Errorf("stopped containerd reports %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "containerd.pid")); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}
