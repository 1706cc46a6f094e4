package etcdtest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/storage/etcd"
)

// externalStopTimeout is how long a stopped etcd process gets to exit after
// SIGTERM before it is killed.
const externalStopTimeout = 10 * time.Second

// EtcdBinary returns the path of the etcd server binary (ETCD_BIN, else
// "etcd" on PATH, else /usr/bin/etcd), or "" when none is installed.
func EtcdBinary() string {
	if p := os.Getenv("ETCD_BIN"); p != "" {
		return p
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/etcd"); err == nil {
		return "/usr/bin/etcd"
	}
	return ""
}

// StartExternal runs the etcd binary as a separate process on free loopback
// ports with its own data dir in t.TempDir(), waits until it serves, and
// returns its client endpoints. The process is stopped when the test ends.
// The test is skipped when no etcd binary is installed (Debian:
// etcd-server).
func StartExternal(t testing.TB) []string {
	t.Helper()
	bin := EtcdBinary()
	if bin == "" {
		t.Skip("no etcd binary installed (apt-get install etcd-server, or set ETCD_BIN): skipping the external etcd test")
	}
	clientURL, peerURL := loopbackURL(t), loopbackURL(t)
	cmd := exec.Command(bin,
		"--name", "skiff-test",
		"--data-dir", t.TempDir(),
		"--listen-client-urls", clientURL,
		"--advertise-client-urls", clientURL,
		"--listen-peer-urls", peerURL,
		"--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "skiff-test="+peerURL,
		"--log-level", "error",
		"--logger", "zap",
	)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { stopProcess(t, cmd, exited) })

	endpoints := []string{clientURL}
	if err := waitServing(endpoints, exited); err != nil {
		t.Fatalf("external etcd %s: %v\n%s", bin, err, logs.String())
	}
	return endpoints
}

// NewExternal starts an external etcd process (see StartExternal) and
// returns a Store on it.
func NewExternal(t testing.TB) *etcd.Store {
	t.Helper()
	return NewStore(t, StartExternal(t))
}

// waitServing waits until etcd at endpoints answers a read, or the process
// exits, or startTimeout passes.
func waitServing(endpoints []string, exited <-chan error) error {
	c, err := etcd.NewClient(endpoints, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.Get(ctx, "/")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-exited:
			return fmt.Errorf("exited before serving: %v", werr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not serving after %v: %w", startTimeout, err)
		}
		time.Sleep(100 * time.Millisecond) // polling a separate process
	}
}

// stopProcess sends SIGTERM, waits, then kills.
func stopProcess(t testing.TB, cmd *exec.Cmd, exited <-chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(externalStopTimeout):
		_ = cmd.Process.Kill()
		<-exited
		t.Logf("external etcd did not stop on SIGTERM within %v; killed", externalStopTimeout)
	}
}

// loopbackURL returns http://127.0.0.1:<free port>.
func loopbackURL(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return fmt.Sprintf("http://%s", l.Addr())
}

// syncBuffer is a bytes.Buffer safe for the process's two output streams.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
