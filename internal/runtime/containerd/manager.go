package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ErrNotInstalled is returned by Start when the containerd binary is not
// on PATH.
var ErrNotInstalled = errors.New("containerd is not installed (apt-get install containerd runc containernetworking-plugins)")

// Options configure a Manager.
type Options struct {
	// Dir holds everything containerd writes (e.g. <data>/containerd).
	Dir string
	// Binary is the containerd executable; "" looks "containerd" up on PATH.
	Binary string
	// SandboxImage overrides PauseImage.
	SandboxImage string
	// Snapshotter forces a snapshotter; "" probes whether overlayfs can
	// mount under Dir and falls back to native.
	Snapshotter string
	// CNIBinDir overrides /usr/lib/cni.
	CNIBinDir string
	// ReadyTimeout bounds the wait for the CRI socket; 0 means 60s.
	ReadyTimeout time.Duration
}

// Manager owns one containerd process.
type Manager struct {
	opts    Options
	cfg     Config
	logPath string
	done    chan struct{}
	err     error // set before done is closed
}

// NewManager resolves the configuration (probing the snapshotter) without
// starting anything.
func NewManager(opts Options) (*Manager, error) {
	if opts.Dir == "" {
		return nil, errors.New("containerd: no directory")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("containerd: %w", err)
	}
	opts.Dir = dir
	if opts.ReadyTimeout == 0 {
		opts.ReadyTimeout = 60 * time.Second
	}
	cfg := DefaultConfig(dir)
	if opts.SandboxImage != "" {
		cfg.SandboxImage = opts.SandboxImage
	}
	if opts.CNIBinDir != "" {
		cfg.CNIBinDir = opts.CNIBinDir
	}
	cfg.RestrictOOMScoreAdj = !CanLowerOOMScore()
	if opts.Snapshotter != "" {
		cfg.Snapshotter = opts.Snapshotter
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o711); err != nil {
		return nil, fmt.Errorf("containerd: %w", err)
	}
	if opts.Snapshotter == "" {
		cfg.Snapshotter = ProbeSnapshotter(dir)
	}
	return &Manager{opts: opts, cfg: cfg, logPath: filepath.Join(dir, "containerd.log"), done: make(chan struct{})}, nil
}

// Socket is the containerd (and CRI) gRPC socket path.
func (m *Manager) Socket() string { return m.cfg.Address }

// Endpoint is Socket as a CRI endpoint URL (unix://...).
func (m *Manager) Endpoint() string { return "unix://" + m.cfg.Address }

// Snapshotter is the snapshotter containerd was configured with.
func (m *Manager) Snapshotter() string { return m.cfg.Snapshotter }

// CNIConfDir is where the CNI configuration must be written.
func (m *Manager) CNIConfDir() string { return m.cfg.CNIConfDir }

// ConfigPath is the containerd configuration file.
func (m *Manager) ConfigPath() string { return filepath.Join(m.opts.Dir, "config.toml") }

// LogPath is containerd's log file.
func (m *Manager) LogPath() string { return m.logPath }

// Done is closed when the containerd process has exited.
func (m *Manager) Done() <-chan struct{} { return m.done }

// Err is how the process ended; valid once Done is closed.
func (m *Manager) Err() error {
	<-m.done
	return m.err
}

// Start writes the configuration, starts containerd and waits until its
// CRI service answers. The process is stopped (SIGTERM, then SIGKILL after
// 10s) when ctx ends. Start must be called once.
func (m *Manager) Start(ctx context.Context) error {
	bin, err := m.binary()
	if err != nil {
		return err
	}
	if err := m.checkNotRunning(ctx); err != nil {
		return err
	}
	if err := m.writeConfig(); err != nil {
		return err
	}
	logFile, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("containerd log: %w", err)
	}
	cmd := exec.CommandContext(ctx, bin, "--config", m.ConfigPath())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	// Own process group: a terminal's ^C reaches Skiff, which then stops
	// containerd in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start containerd: %w", err)
	}
	if err := os.WriteFile(m.pidPath(), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o644); err != nil {
		_ = cmd.Process.Kill()
	}
	go func() {
		err := cmd.Wait()
		_ = os.Remove(m.pidPath())
		logFile.Close()
		if err != nil && ctx.Err() == nil {
			m.err = fmt.Errorf("containerd exited: %w (log: %s)", err, m.logPath)
		}
		close(m.done)
	}()
	if err := m.waitReady(ctx); err != nil {
		return err
	}
	return nil
}

func (m *Manager) pidPath() string { return filepath.Join(m.opts.Dir, "containerd.pid") }

// checkNotRunning fails if a containerd (e.g. left by a previous run that
// was killed) still serves the socket: a second one would wait forever for
// the metadata database's lock.
func (m *Manager) checkNotRunning(ctx context.Context) error {
	if _, err := os.Stat(m.cfg.Address); err != nil {
		return nil
	}
	conn, err := grpc.NewClient("unix://"+m.cfg.Address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if _, err := runtimeapi.NewRuntimeServiceClient(conn).Version(ctx, &runtimeapi.VersionRequest{}); err != nil {
		return nil
	}
	pid, _ := os.ReadFile(m.pidPath())
	return fmt.Errorf("containerd: another containerd already serves %s (pid %s); stop it first",
		m.cfg.Address, strings.TrimSpace(string(pid)))
}

func (m *Manager) binary() (string, error) {
	if m.opts.Binary != "" {
		return m.opts.Binary, nil
	}
	bin, err := exec.LookPath("containerd")
	if err != nil {
		return "", ErrNotInstalled
	}
	return bin, nil
}

func (m *Manager) writeConfig() error {
	data, err := m.cfg.Render()
	if err != nil {
		return err
	}
	for _, d := range []string{m.cfg.Root, m.cfg.State, m.cfg.CNIConfDir, m.cfg.OptDir} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return fmt.Errorf("containerd: %w", err)
		}
	}
	if err := os.WriteFile(m.ConfigPath(), data, 0o644); err != nil {
		return fmt.Errorf("containerd config: %w", err)
	}
	// A socket left by a previous run would make containerd refuse to
	// start only if another containerd still serves it; remove it.
	if err := os.Remove(m.cfg.Address); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("containerd: stale socket: %w", err)
	}
	return nil
}

// waitReady polls the CRI Version call until it answers, the process
// exits, or the timeout passes.
func (m *Manager) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.ReadyTimeout)
	defer cancel()
	conn, err := grpc.NewClient("unix://"+m.cfg.Address, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("containerd: dial: %w", err)
	}
	defer conn.Close()
	client := runtimeapi.NewRuntimeServiceClient(conn)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		callCtx, callCancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.Version(callCtx, &runtimeapi.VersionRequest{})
		callCancel()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-m.done:
			return fmt.Errorf("containerd exited before it was ready: %v; log tail:\n%s", m.err, tail(m.logPath, 2048))
		case <-ctx.Done():
			return fmt.Errorf("containerd not ready after %s: %v; log tail:\n%s", m.opts.ReadyTimeout, lastErr, tail(m.logPath, 2048))
		case <-tick.C:
		}
	}
}

// tail returns the last n bytes of a file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	return string(data)
}
