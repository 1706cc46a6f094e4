package cri_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/image"
	"github.com/skiffkube/skiff/internal/network"
	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/cri"
)

// The test's own network, apart from a real node's skiff0.
const (
	testCIDR   = "10.244.200.0/24"
	testBridge = "skifftest0"
)

// startNode starts containerd in a temporary directory with the test
// network, imports Skiff's images and connects a cri.Runtime.
func startNode(t *testing.T, ctx context.Context) *cri.Runtime {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containerd and containers")
	}
	for _, bin := range []string{"containerd", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (apt-get install containerd runc containernetworking-plugins)", bin)
		}
	}
	imagesDir := t.TempDir()
	if _, err := image.BuildAll(ctx, imagesDir); err != nil {
		t.Fatal(err)
	}
	// A short path: the socket path must fit in 107 bytes.
	dir, err := os.MkdirTemp("", "skiff-cri-")
	if err != nil {
		t.Fatal(err)
	}
	mctx, stop := context.WithCancel(context.Background())
	node, err := cri.StartNode(mctx, cri.NodeOptions{
		Dir:       dir,
		ImagesDir: imagesDir,
		Network:   network.BridgeOptions{Bridge: testBridge, Name: "skifftest"},
	})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	m, rt := node.Manager, node.Runtime
	t.Logf("containerd %s (snapshotter %s, log %s)", m.Socket(), m.Snapshotter(), m.LogPath())
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := rt.RemoveAll(cctx); err != nil {
			t.Errorf("remove all: %v", err)
		}
		rt.Close()
		stop()
		<-m.Done()
		_ = exec.Command("ip", "link", "del", testBridge).Run()
		if t.Failed() && os.Getenv("SKIFF_KEEP") != "" {
			t.Logf("kept %s", dir)
			return
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Logf("remove %s: %v", dir, err)
		}
	})
	// The pod CIDR comes after start, as a node learns it from its Node
	// object; containerd must pick the configuration up by itself.
	if err := rt.Ready(ctx); err == nil || !strings.Contains(err.Error(), "NetworkReady") {
		t.Errorf("runtime ready before any CNI config: %v", err)
	}
	if err := node.SetPodCIDR(testCIDR); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "runtime ready", func() (bool, error) { return rt.Ready(ctx) == nil, nil })
	return rt
}

// waitFor polls cond every 100ms until it holds or ctx ends.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s (last error: %v)", what, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestNode runs real pods on a containerd started for the test.
func TestNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rt := startNode(t, ctx)
	t.Run("PodLifecycle", func(t *testing.T) { testPodLifecycle(t, ctx, rt) })
	t.Run("OOMKilled", func(t *testing.T) { testOOMKilled(t, ctx, rt) })
	t.Run("HostPortAndHostNetwork", func(t *testing.T) { testHostPortAndHostNetwork(t, ctx, rt) })
	t.Run("Privileged", func(t *testing.T) { testPrivileged(t, ctx, rt) })
}

func testPodLifecycle(t *testing.T, ctx context.Context, rt *cri.Runtime) {
	v, err := rt.Version(ctx)
	if err != nil || v.RuntimeName != "containerd" {
		t.Fatalf("version = %+v, %v", v, err)
	}

	logDir := t.TempDir()
	sandboxCfg := &runtime.PodSandboxConfig{
		Metadata:     runtime.PodSandboxMetadata{Name: "web", Namespace: "default", UID: "uid-1"},
		Hostname:     "web-host",
		LogDirectory: logDir,
		DNS:          &runtime.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"default.svc.cluster.local"}, Options: []string{"ndots:5"}},
		Labels:       map[string]string{"skiff.io/pod-uid": "uid-1"},
		Annotations:  map[string]string{"note": "hello"},
	}
	sandboxID, err := rt.RunPodSandbox(ctx, sandboxCfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := rt.PodSandboxStatus(ctx, sandboxID)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := netip.ParseAddr(st.IP)
	if err != nil || !netip.MustParsePrefix(testCIDR).Contains(ip) {
		t.Fatalf("sandbox IP %q is not in %s", st.IP, testCIDR)
	}
	if st.State != runtime.SandboxReady || st.Labels["skiff.io/pod-uid"] != "uid-1" || st.Annotations["note"] != "hello" || st.Metadata.UID != "uid-1" {
		t.Errorf("sandbox status = %+v", st)
	}

	dataDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dataDir, "f"), []byte("from-host"), 0o644); err != nil {
		t.Fatal(err)
	}
	busyID := runContainer(t, ctx, rt, sandboxID, sandboxCfg, &runtime.ContainerConfig{
		Metadata: runtime.ContainerMetadata{Name: "busy"},
		Image:    "busybox",
		Command:  []string{"sh", "-c", "echo hi; sleep 3600"},
		Env:      []runtime.KeyValue{{Key: "FOO", Value: "bar"}},
		Labels:   map[string]string{"skiff.io/container": "busy"},
		Mounts:   []runtime.Mount{{ContainerPath: "/data", HostPath: dataDir, ReadOnly: true}},
		LogPath:  "busy/0.log",
		Resources: &runtime.Resources{
			CPUPeriod: 100000, CPUQuota: 50000, CPUShares: 512, MemoryLimitBytes: 64 << 20,
		},
	})
	waitFor(t, ctx, "log line", func() (bool, error) {
		data, err := os.ReadFile(filepath.Join(logDir, "busy", "0.log"))
		return strings.Contains(string(data), " stdout F hi\n"), err
	})
	checkExec(t, ctx, rt, busyID, []string{"cat", "/etc/hostname"}, "web-host\n", 0)
	checkExec(t, ctx, rt, busyID, []string{"sh", "-c", "echo $FOO; cat /data/f; exit 3"}, "bar\nfrom-host", 3)
	checkExec(t, ctx, rt, busyID, []string{"sh", "-c", "grep -c 'nameserver 10.96.0.10' /etc/resolv.conf"}, "1\n", 0)
	checkExec(t, ctx, rt, busyID, []string{"sh", "-c", "touch /data/x 2>/dev/null && echo rw || echo ro"}, "ro\n", 0)
	checkExec(t, ctx, rt, busyID, []string{"cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}, "67108864\n", 0)

	for name, call := range map[string]func() (string, error){
		"exec": func() (string, error) {
			return rt.Exec(ctx, busyID, []string{"sh"}, cri.StreamOptions{Stdin: true, Stdout: true, TTY: true})
		},
		"attach":       func() (string, error) { return rt.Attach(ctx, busyID, cri.StreamOptions{Stdout: true, Stderr: true}) },
		"port-forward": func() (string, error) { return rt.PortForward(ctx, sandboxID, []int32{8080}) },
	} {
		url, err := call()
		if err != nil || !strings.HasPrefix(url, "http://127.0.0.1:") {
			t.Errorf("%s URL = %q, %v", name, url, err)
		}
	}
	if err := rt.ReopenContainerLog(ctx, busyID); err != nil {
		t.Errorf("reopen log: %v", err)
	}

	cs, err := rt.ContainerStatus(ctx, busyID)
	if err != nil {
		t.Fatal(err)
	}
	if cs.State != runtime.ContainerRunning || cs.PodSandboxID != sandboxID || cs.Labels["skiff.io/container"] != "busy" || cs.StartedAt.IsZero() || cs.ImageRef == "" {
		t.Errorf("busy status = %+v", cs)
	}

	// The test server, as nobody with a read-only root and no
	// capabilities, answers HTTP on the pod IP from the host.
	nobody := int64(65534)
	runContainer(t, ctx, rt, sandboxID, sandboxCfg, &runtime.ContainerConfig{
		Metadata: runtime.ContainerMetadata{Name: "server"},
		Image:    image.TestImage,
		Args:     []string{"-port", "8080"},
		LogPath:  "server/0.log",
		Security: &runtime.SecurityContext{
			RunAsUser: &nobody, ReadOnlyRootFilesystem: true, NoNewPrivs: true, DropCapabilities: []string{"ALL"},
		},
	})
	url := "http://" + st.IP + ":8080/hostname"
	waitFor(t, ctx, "HTTP from the pod", func() (bool, error) {
		body, err := httpGet(ctx, url)
		return body == "web-host\n", err
	})

	// A failing container reports its exit code and reason.
	failID := runContainer(t, ctx, rt, sandboxID, sandboxCfg, &runtime.ContainerConfig{
		Metadata: runtime.ContainerMetadata{Name: "fail", Attempt: 2},
		Image:    image.BusyboxImage,
		Command:  []string{"sh", "-c", "exit 7"},
		LogPath:  "fail/2.log",
	})
	waitFor(t, ctx, "container exit", func() (bool, error) {
		cs, err := rt.ContainerStatus(ctx, failID)
		return err == nil && cs.State == runtime.ContainerExited, err
	})
	cs, err = rt.ContainerStatus(ctx, failID)
	if err != nil || cs.ExitCode != 7 || cs.Reason != "Error" || cs.FinishedAt.IsZero() || cs.Metadata.Attempt != 2 {
		t.Errorf("fail status = %+v, %v", cs, err)
	}

	list, err := rt.ListContainers(ctx)
	if err != nil || len(list) != 3 {
		t.Fatalf("list = %d containers, %v", len(list), err)
	}

	if err := rt.StopContainer(ctx, busyID, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if cs, err := rt.ContainerStatus(ctx, busyID); err != nil || cs.State != runtime.ContainerExited {
		t.Errorf("after stop: %+v, %v", cs, err)
	}
	if err := rt.StopPodSandbox(ctx, sandboxID); err != nil {
		t.Fatal(err)
	}
	if err := rt.StopPodSandbox(ctx, sandboxID); err != nil {
		t.Errorf("second stop: %v", err)
	}
	if err := rt.RemovePodSandbox(ctx, sandboxID); err != nil {
		t.Fatal(err)
	}
	if sandboxes, err := rt.ListPodSandbox(ctx); err != nil || len(sandboxes) != 0 {
		t.Errorf("after remove: %d sandboxes, %v", len(sandboxes), err)
	}
	if _, err := rt.ContainerStatus(ctx, busyID); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("status of removed container: %v, want ErrNotFound", err)
	}
}

func runContainer(t *testing.T, ctx context.Context, rt *cri.Runtime, sandboxID string, sandbox *runtime.PodSandboxConfig, cfg *runtime.ContainerConfig) string {
	t.Helper()
	if _, err := rt.PullImage(ctx, cfg.Image); err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sandboxID, cfg, sandbox)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func checkExec(t *testing.T, ctx context.Context, rt *cri.Runtime, id string, cmd []string, wantOut string, wantCode int32) {
	t.Helper()
	res, err := rt.ExecSync(ctx, id, cmd, 10*time.Second)
	if err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	if string(res.Stdout) != wantOut || res.ExitCode != wantCode {
		t.Errorf("exec %v = %q (stderr %q) exit %d, want %q exit %d", cmd, res.Stdout, res.Stderr, res.ExitCode, wantOut, wantCode)
	}
}

func httpGet(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

func testOOMKilled(t *testing.T, ctx context.Context, rt *cri.Runtime) {
	sandbox := &runtime.PodSandboxConfig{
		Metadata:     runtime.PodSandboxMetadata{Name: "oom", Namespace: "default", UID: "uid-oom"},
		LogDirectory: t.TempDir(),
	}
	sandboxID, err := rt.RunPodSandbox(ctx, sandbox)
	if err != nil {
		t.Fatal(err)
	}
	defer removeSandbox(t, rt, sandboxID)
	id := runContainer(t, ctx, rt, sandboxID, sandbox, &runtime.ContainerConfig{
		Metadata:  runtime.ContainerMetadata{Name: "hog"},
		Image:     image.BusyboxImage,
		Command:   []string{"sh", "-c", "dd if=/dev/zero of=/dev/null bs=64M count=1"},
		LogPath:   "hog.log",
		Resources: &runtime.Resources{MemoryLimitBytes: 16 << 20},
	})
	waitFor(t, ctx, "OOM kill", func() (bool, error) {
		cs, err := rt.ContainerStatus(ctx, id)
		return err == nil && cs.State == runtime.ContainerExited, err
	})
	cs, err := rt.ContainerStatus(ctx, id)
	if err != nil || cs.Reason != "OOMKilled" || cs.ExitCode != 137 {
		t.Errorf("status = %+v, %v; want reason OOMKilled, exit 137", cs, err)
	}
}

func testHostPortAndHostNetwork(t *testing.T, ctx context.Context, rt *cri.Runtime) {
	sandbox := &runtime.PodSandboxConfig{
		Metadata:     runtime.PodSandboxMetadata{Name: "hp", Namespace: "default", UID: "uid-hp"},
		Hostname:     "hp",
		LogDirectory: t.TempDir(),
		PortMappings: []runtime.PortMapping{{Protocol: "TCP", ContainerPort: 8080, HostPort: 18480, HostIP: "127.0.0.1"}},
	}
	sandboxID, err := rt.RunPodSandbox(ctx, sandbox)
	if err != nil {
		t.Fatal(err)
	}
	defer removeSandbox(t, rt, sandboxID)
	runContainer(t, ctx, rt, sandboxID, sandbox, &runtime.ContainerConfig{
		Metadata: runtime.ContainerMetadata{Name: "server"}, Image: image.TestImage, LogPath: "server.log",
	})
	waitFor(t, ctx, "HTTP through the hostPort", func() (bool, error) {
		body, err := httpGet(ctx, "http://127.0.0.1:18480/echo?msg=port")
		return body == "port\n", err
	})

	host := &runtime.PodSandboxConfig{
		Metadata:     runtime.PodSandboxMetadata{Name: "hn", Namespace: "default", UID: "uid-hn"},
		HostNetwork:  true,
		LogDirectory: t.TempDir(),
	}
	hostID, err := rt.RunPodSandbox(ctx, host)
	if err != nil {
		t.Fatal(err)
	}
	defer removeSandbox(t, rt, hostID)
	if st, err := rt.PodSandboxStatus(ctx, hostID); err != nil || st.IP != "" {
		t.Errorf("host-network sandbox status = %+v, %v; want no pod IP", st, err)
	}
	runContainer(t, ctx, rt, hostID, host, &runtime.ContainerConfig{
		Metadata: runtime.ContainerMetadata{Name: "server"}, Image: image.TestImage, Args: []string{"-port", "18481"}, LogPath: "server.log",
	})
	waitFor(t, ctx, "HTTP on the host network", func() (bool, error) {
		body, err := httpGet(ctx, "http://127.0.0.1:18481/echo?msg=host")
		return body == "host\n", err
	})
}

func removeSandbox(t *testing.T, rt *cri.Runtime, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := rt.StopPodSandbox(ctx, id); err != nil {
		t.Errorf("stop sandbox: %v", err)
	}
	if err := rt.RemovePodSandbox(ctx, id); err != nil {
		t.Errorf("remove sandbox: %v", err)
	}
}

// testPrivileged checks that a privileged container needs a privileged
// sandbox (containerd refuses it otherwise) and gets every capability.
func testPrivileged(t *testing.T, ctx context.Context, rt *cri.Runtime) {
	cfg := &runtime.ContainerConfig{
		Metadata: runtime.ContainerMetadata{Name: "priv"},
		Image:    image.BusyboxImage,
		Command:  []string{"sleep", "3600"},
		LogPath:  "priv.log",
		Security: &runtime.SecurityContext{Privileged: true},
	}
	plain := &runtime.PodSandboxConfig{
		Metadata:     runtime.PodSandboxMetadata{Name: "plain", Namespace: "default", UID: "uid-plain"},
		LogDirectory: t.TempDir(),
	}
	plainID, err := rt.RunPodSandbox(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	defer removeSandbox(t, rt, plainID)
	if _, err := rt.CreateContainer(ctx, plainID, cfg, plain); err == nil {
		t.Error("privileged container created in an unprivileged sandbox")
	}

	priv := &runtime.PodSandboxConfig{
		Metadata:     runtime.PodSandboxMetadata{Name: "priv", Namespace: "default", UID: "uid-priv"},
		LogDirectory: t.TempDir(),
		Security:     &runtime.SecurityContext{Privileged: true},
	}
	privID, err := rt.RunPodSandbox(ctx, priv)
	if err != nil {
		t.Fatal(err)
	}
	defer removeSandbox(t, rt, privID)
	id := runContainer(t, ctx, rt, privID, priv, cfg)
	res, err := rt.ExecSync(ctx, id, []string{"sh", "-c", "grep CapEff /proc/self/status"}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The host lacks CAP_SYS_RESOURCE; everything it has, the container has.
	if got := string(res.Stdout); !strings.Contains(got, "fffff") {
		t.Errorf("privileged container capabilities: %q", got)
	}
}
