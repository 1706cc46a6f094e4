package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// needNode skips unless this machine can run real pods: root, containerd,
// runc and the CNI plugins (CI installs them; see .ci/run).
func needNode(t *testing.T) {
	t.Helper()
	needKubectl(t)
	if os.Geteuid() != 0 {
		t.Skip("running real pods needs root")
	}
	for _, bin := range []string{"containerd", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed (apt-get install containerd runc containernetworking-plugins)", bin)
		}
	}
	if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
		t.Skip("the CNI plugins are not installed (apt-get install containernetworking-plugins)")
	}
	if testing.Short() {
		t.Skip("-short: no real pods")
	}
}

// TestOneNodeCluster runs `skiff up` (control plane and a real node over
// containerd) and drives it with stock kubectl: pods that print and exit,
// a Deployment behind a Service reached by DNS name, exec, cp,
// port-forward, crash loops, liveness restarts and ConfigMap volumes.
func TestOneNodeCluster(t *testing.T) {
	needNode(t)
	dataDir, err := os.MkdirTemp("", "skiff-up-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "run", "./test/images/build", "-out", filepath.Join(dataDir, "agent", "images"))
	build.Dir = moduleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test images: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	agentPort, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	up, err := startSkiff(dataDir, port, "is Ready (", 3*time.Minute, "up", "--agent-port", fmt.Sprint(agentPort))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := up.stop(); err != nil {
			t.Errorf("stopping skiff up: %v", err)
		}
		removeNode(t, dataDir)
		if t.Failed() {
			t.Logf("skiff up log (tail):\n%s", tail(up.logs(), 60))
		}
	})
	waitFor := func(what string, timeout time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not after %s", what, timeout)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	phase := func(pod string) string {
		out, _, _ := up.kubectl("", nil, "get", "pod", pod, "-o", "jsonpath={.status.phase}")
		return out
	}

	t.Run("pod prints and exits", func(t *testing.T) {
		up.must(t, "run", "hello", "--image=registry.skiff.local/busybox:1.35", "--restart=Never", "--", "sh", "-c", "echo hello from skiff; echo bye")
		waitFor("hello Succeeded", time.Minute, func() bool { return phase("hello") == "Succeeded" })
		wantContains(t, "kubectl get pod", up.must(t, "get", "pod", "hello"), "Completed")
		if got := up.must(t, "logs", "hello"); got != "hello from skiff\nbye\n" {
			t.Fatalf("kubectl logs = %q", got)
		}
		wantContains(t, "kubectl logs --tail=1", up.must(t, "logs", "hello", "--tail=1"), "bye")
	})

	t.Run("service reached by DNS name", func(t *testing.T) {
		up.must(t, "create", "deployment", "web", "--image=registry.skiff.local/skiff-test:1", "--replicas=2", "--port=8080")
		up.must(t, "expose", "deployment", "web", "--port=80", "--target-port=8080")
		up.must(t, "rollout", "status", "deployment/web", "--timeout=90s")
		up.must(t, "run", "getter", "--image=registry.skiff.local/skiff-test:1", "--restart=Never", "--",
			"get", "http://web/hostname", "http://web.default.svc.cluster.local/hostname")
		waitFor("getter finished", time.Minute, func() bool { p := phase("getter"); return p == "Succeeded" || p == "Failed" })
		logs := up.must(t, "logs", "getter")
		if phase("getter") != "Succeeded" || strings.Count(logs, "web-") != 2 {
			t.Fatalf("getter %s, logs %q: want two answers from web pods", phase("getter"), logs)
		}
	})

	t.Run("exec, cp and port-forward", func(t *testing.T) {
		wantContains(t, "kubectl exec", up.must(t, "exec", "deploy/web", "--", "sh", "-c", "echo exec-ok; cat /etc/hostname"), "exec-ok", "web-")
		if got := up.mustIn(t, "through stdin", "exec", "-i", "deploy/web", "--", "cat"); got != "through stdin" {
			t.Fatalf("exec -i echoed %q", got)
		}
		pod := strings.TrimPrefix(up.must(t, "get", "pods", "-l", "app=web", "-o", "name"), "pod/")
		pod = strings.Fields(pod)[0]
		src := filepath.Join(t.TempDir(), "payload")
		if err := os.WriteFile(src, []byte("copied"), 0o644); err != nil {
			t.Fatal(err)
		}
		up.must(t, "cp", src, pod+":/tmp/payload")
		if got := up.must(t, "exec", pod, "--", "cat", "/tmp/payload"); got != "copied" {
			t.Fatalf("kubectl cp then cat: %q", got)
		}
		local, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		pf := exec.Command(suite.kubectl, "--kubeconfig", up.kubeconfig, "port-forward", "pod/"+pod, fmt.Sprintf("%d:8080", local))
		pf.Env = append(os.Environ(), "HOME="+suite.home, "KUBECONFIG=")
		if err := pf.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { _ = pf.Process.Kill(); _ = pf.Wait() }()
		var body string
		waitFor("port-forward answers", 20*time.Second, func() bool {
			resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/hostname", local))
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			body = strings.TrimSpace(string(b))
			return true
		})
		if body != pod {
			t.Fatalf("port-forward /hostname = %q, want %q", body, pod)
		}
	})

	t.Run("crash loop and liveness restarts", func(t *testing.T) {
		up.must(t, "run", "crasher", "--image=registry.skiff.local/busybox:1.35", "--", "sh", "-c", "echo dying; exit 3")
		waitFor("crasher in CrashLoopBackOff", 90*time.Second, func() bool {
			out, _, _ := up.kubectl("", nil, "get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}")
			return out == "CrashLoopBackOff"
		})
		manifest := `apiVersion: v1
kind: Pod
metadata: {name: sick}
spec:
  containers:
  - name: app
    image: registry.skiff.local/skiff-test:1
    args: ["-fail-health-after", "2s"]
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 1
      failureThreshold: 2
`
		up.mustIn(t, manifest, "apply", "-f", "-")
		waitFor("liveness restart", 90*time.Second, func() bool {
			out, _, _ := up.kubectl("", nil, "get", "pod", "sick", "-o", "jsonpath={.status.containerStatuses[0].restartCount}")
			return out != "" && out != "0"
		})
		wantContains(t, "events of sick", up.must(t, "describe", "pod", "sick"), "Unhealthy", "Liveness probe failed")
	})

	t.Run("configmap volume and env", func(t *testing.T) {
		up.must(t, "create", "configmap", "settings", "--from-literal=greeting=ahoy")
		manifest := `apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: registry.skiff.local/busybox:1.35
    command: ["sh", "-c", "cat /etc/settings/greeting; echo; echo $GREETING"]
    env:
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: settings, key: greeting}}
    volumeMounts: [{name: s, mountPath: /etc/settings}]
  volumes: [{name: s, configMap: {name: settings}}]
`
		up.mustIn(t, manifest, "apply", "-f", "-")
		waitFor("reader Succeeded", time.Minute, func() bool { return phase("reader") == "Succeeded" })
		if got := up.must(t, "logs", "reader"); got != "ahoy\nahoy\n" {
			t.Fatalf("reader logs %q", got)
		}
	})
}

// removeNode removes what a stopped node leaves behind on purpose:
// containers outlive their agent and containerd (as with a kubelet), so
// their shims are killed and their mounts detached before the data
// directory goes.
func removeNode(t *testing.T, dataDir string) {
	t.Helper()
	_ = exec.Command("pkill", "-KILL", "-f", "containerd-shim.*"+dataDir).Run()
	for range 50 {
		if exec.Command("pgrep", "-f", "containerd-shim.*"+dataDir).Run() != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err == nil {
		var mounts []string
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dataDir) {
				mounts = append(mounts, f[4])
			}
		}
		for i := len(mounts) - 1; i >= 0; i-- {
			_ = unix.Unmount(mounts[i], unix.MNT_DETACH)
		}
	}
	if err := os.RemoveAll(dataDir); err != nil {
		t.Logf("removing %s: %v", dataDir, err)
	}
}
