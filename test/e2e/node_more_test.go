package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/image"
)

// upNode is one `skiff up` over a data directory that outlives restarts
// of the process.
type upNode struct {
	dataDir   string
	port      int
	agentPort int
	name      string
	proc      *serverProcess
}

// startNode builds the test images into a fresh data directory, runs
// `skiff up` on it and returns once the node is Ready. Cleanup stops the
// process (whichever is current) and removes what the node left.
func startNode(t *testing.T) *upNode {
	t.Helper()
	dataDir, err := os.MkdirTemp("", "skiff-up-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := image.Build(context.Background(), filepath.Join(dataDir, "agent", "images"), image.BuildOptions{ModuleDir: moduleRoot()}); err != nil {
		t.Fatalf("building the test images: %v", err)
	}
	n := &upNode{dataDir: dataDir}
	if n.port, err = freePort(); err != nil {
		t.Fatal(err)
	}
	if n.agentPort, err = freePort(); err != nil {
		t.Fatal(err)
	}
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if n.proc != nil {
			if err := n.proc.stop(); err != nil {
				t.Errorf("stopping skiff up: %v", err)
			}
			if t.Failed() {
				t.Logf("skiff up log (tail):\n%s", tail(n.proc.logs(), 80))
			}
		}
		removeNode(t, dataDir)
	})
	n.name = strings.TrimSpace(n.proc.must(t, "get", "nodes", "-o", "jsonpath={.items[0].metadata.name}"))
	return n
}

// start runs `skiff up` on the node's data directory and ports.
func (n *upNode) start() error {
	p, err := startSkiff(n.dataDir, n.port, "is Ready (", 3*time.Minute, "up", "--agent-port", fmt.Sprint(n.agentPort))
	if err != nil {
		return err
	}
	n.proc = p
	return nil
}

// restart stops `skiff up` with SIGTERM and starts it again.
func (n *upNode) restart(t *testing.T) {
	t.Helper()
	old := n.proc
	n.proc = nil
	if err := old.stop(); err != nil {
		t.Fatalf("stopping skiff up: %v\n%s", err, tail(old.logs(), 40))
	}
	if err := n.start(); err != nil {
		t.Fatal(err)
	}
}

// eventually polls ok every half second and fails the test after timeout.
func eventually(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s", what, timeout)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// get returns a jsonpath of an object, "" on error.
func (n *upNode) get(kind, name, jsonpath string, extra ...string) string {
	out, _, _ := n.proc.kubectl("", nil, append([]string{"get", kind, name, "-o", "jsonpath=" + jsonpath}, extra...)...)
	return out
}

// dumpOnFailure logs the pods' status when t fails.
func (n *upNode) dumpOnFailure(t *testing.T, ns string, pods ...string) {
	t.Cleanup(func() {
		if !t.Failed() || n.proc == nil {
			return
		}
		for _, p := range pods {
			out, errOut, _ := n.proc.kubectl("", nil, "get", "pod", "-n", ns, p, "-o", "jsonpath=deletionTimestamp={.metadata.deletionTimestamp} status={.status}")
			t.Logf("pod %s/%s: %s%s", ns, p, out, errOut)
		}
	})
}

// podStatus is the STATUS column kubectl prints for a pod.
func (n *upNode) podStatus(name string, extra ...string) string {
	out, _, _ := n.proc.kubectl("", nil, append([]string{"get", "pod", name, "--no-headers"}, extra...)...)
	f := strings.Fields(out)
	if len(f) < 3 {
		return ""
	}
	return f[2]
}

// TestOneNodeMore runs a second `skiff up` and drives it with kubectl:
// init containers and sidecars, static pods, image import, kubectl top,
// then an agent restart that must keep the running containers.
func TestOneNodeMore(t *testing.T) {
	needNode(t)
	n := startNode(t)
	n.proc.must(t, "run", "keeper", "--image=registry.skiff.local/busybox:1.35", "--", "sleep", "3600")

	t.Run("features", func(t *testing.T) {
		t.Run("init containers", func(t *testing.T) { t.Parallel(); testInitContainers(t, n) })
		t.Run("failing init container", func(t *testing.T) { t.Parallel(); testFailingInit(t, n) })
		t.Run("sidecar", func(t *testing.T) { t.Parallel(); testSidecar(t, n) })
		t.Run("static pod", func(t *testing.T) { t.Parallel(); testStaticPod(t, n) })
		t.Run("image import", func(t *testing.T) { t.Parallel(); testImageImport(t, n) })
		t.Run("top", func(t *testing.T) { t.Parallel(); testTop(t, n) })
		t.Run("horizontal pod autoscaler", func(t *testing.T) { t.Parallel(); testHPA(t, n) })
	})
	t.Run("agent restart keeps containers", func(t *testing.T) { testAgentRestart(t, n) })
}
