package agent_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/fake"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

func manifest(name, image string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n  - name: main\n    image: %s\n", name, image)
}

// runAgent runs an agent until the test ends.
func runAgent(t *testing.T, cfg agent.Config) {
	t.Helper()
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	})
}

// runningContainers lists the running containers of the fake runtime by
// pod name.
func runningContainers(rt runtime.Runtime) map[string][]string {
	out := map[string][]string{}
	cs, _ := rt.ListContainers(context.Background())
	for _, c := range cs {
		if c.State == runtime.ContainerRunning {
			pod := c.Labels[agent.LabelPodName]
			out[pod] = append(out[pod], c.ID)
		}
	}
	return out
}

// eventually polls cond (the fake runtime has no watch) until it holds.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStaticPodsWithoutAPIServer(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(file, []byte(manifest("web", "registry.local/web:1")), 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing listens there: registration fails for the whole test.
	cs := kubernetes.NewForConfigOrDie(&rest.Config{Host: fmt.Sprintf("https://127.0.0.1:%d", freePort(t)), Timeout: time.Second})
	rt := fake.New(fake.Config{})
	runAgent(t, agent.Config{NodeName: "node-s", Client: cs, Runtime: rt, DataDir: t.TempDir(),
		ManifestDir: dir, ManifestCheckInterval: 100 * time.Millisecond})

	eventually(t, 10*time.Second, "static pod running", func() bool { return len(runningContainers(rt)["web-node-s"]) == 1 })
	sbs, _ := rt.ListPodSandbox(context.Background())
	if len(sbs) != 1 || sbs[0].Metadata.Namespace != "default" || sbs[0].Annotations[agent.AnnotationConfigSource] != agent.SourceFile ||
		sbs[0].Metadata.UID != sbs[0].Annotations[agent.AnnotationConfigHash] {
		t.Fatalf("sandboxes %+v", sbs)
	}

	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "static pod removed", func() bool {
		sbs, _ := rt.ListPodSandbox(context.Background())
		cs, _ := rt.ListContainers(context.Background())
		return len(sbs) == 0 && len(cs) == 0
	})
}

func TestStaticAndMirrorPods(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler = true })
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	dir := t.TempDir()
	file := filepath.Join(dir, "web.yaml")
	if err := os.WriteFile(file, []byte(manifest("web", "registry.local/web:1")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".hidden.yaml"), []byte(manifest("hidden", "x:1")), 0o644); err != nil {
		t.Fatal(err)
	}
	remote := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, manifest("remote", "registry.local/remote:1"))
	}))
	defer remote.Close()
	rt := fake.New(fake.Config{})
	runAgent(t, agent.Config{NodeName: "node-m", Client: cs, Runtime: rt, DataDir: t.TempDir(),
		ManifestDir: dir, ManifestURL: remote.URL, ManifestCheckInterval: 100 * time.Millisecond})

	ctx := context.Background()
	lw := podLW(cs, "default")
	mirror := until(t, lw, &corev1.Pod{}, "web-node-m", 30*time.Second, "web mirror Running", running)
	node, err := cs.CoreV1().Nodes().Get(ctx, "node-m", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hash := mirror.Annotations[agent.AnnotationConfigHash]
	if hash == "" || mirror.Annotations[agent.AnnotationConfigMirror] != hash || mirror.Annotations[agent.AnnotationConfigSource] != agent.SourceFile ||
		mirror.Annotations[agent.AnnotationConfigSeen] == "" || mirror.UID == "" || string(mirror.UID) == hash {
		t.Errorf("mirror metadata: uid %s annotations %v", mirror.UID, mirror.Annotations)
	}
	if refs := mirror.OwnerReferences; len(refs) != 1 || refs[0].Kind != "Node" || refs[0].UID != node.UID {
		t.Errorf("mirror owner references %+v", refs)
	}
	if !mirror.Status.ContainerStatuses[0].Ready || mirror.Status.PodIP == "" {
		t.Errorf("mirror status %+v", mirror.Status)
	}
	r := until(t, lw, &corev1.Pod{}, "remote-node-m", 30*time.Second, "remote mirror Running", running)
	if r.Annotations[agent.AnnotationConfigSource] != agent.SourceHTTP {
		t.Errorf("remote annotations %v", r.Annotations)
	}
	if _, err := cs.CoreV1().Pods("default").Get(ctx, "hidden-node-m", metav1.GetOptions{}); err == nil {
		t.Error("a hidden file was read")
	}
	containerID := mirror.Status.ContainerStatuses[0].ContainerID

	t.Run("deleting the mirror recreates it", func(t *testing.T) {
		if err := cs.CoreV1().Pods("default").Delete(ctx, "web-node-m", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		again := until(t, lw, &corev1.Pod{}, "web-node-m", 30*time.Second, "new web mirror Running", func(p *corev1.Pod) bool {
			return p.UID != mirror.UID && running(p)
		})
		if got := again.Status.ContainerStatuses[0]; got.ContainerID != containerID || got.RestartCount != 0 {
			t.Errorf("the static pod restarted: %s -> %s (restarts %d)", containerID, got.ContainerID, got.RestartCount)
		}
	})

	t.Run("changing the manifest replaces the pod", func(t *testing.T) {
		if err := os.WriteFile(file, []byte(manifest("web", "registry.local/web:2")), 0o644); err != nil {
			t.Fatal(err)
		}
		p := until(t, lw, &corev1.Pod{}, "web-node-m", 30*time.Second, "web mirror of the new version Running", func(p *corev1.Pod) bool {
			return p.Annotations[agent.AnnotationConfigHash] != hash && running(p)
		})
		if p.Spec.Containers[0].Image != "registry.local/web:2" || p.Status.ContainerStatuses[0].ContainerID == containerID {
			t.Errorf("new version: image %s container %s", p.Spec.Containers[0].Image, p.Status.ContainerStatuses[0].ContainerID)
		}
		if n := len(runningContainers(rt)["web-node-m"]); n != 1 {
			t.Errorf("%d containers of web run", n)
		}
	})

	t.Run("removing the manifest stops the pod", func(t *testing.T) {
		if err := os.Remove(file); err != nil {
			t.Fatal(err)
		}
		waitGone(t, cs, "web-node-m", 30*time.Second)
		eventually(t, 10*time.Second, "web containers gone", func() bool { return len(runningContainers(rt)["web-node-m"]) == 0 })
		if len(runningContainers(rt)["remote-node-m"]) != 1 {
			t.Error("the remote static pod stopped")
		}
	})

}
