package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/fake"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// startStoppable runs an agent and returns a function that stops it.
func startStoppable(t *testing.T, cfg agent.Config) (stop func()) {
	t.Helper()
	a, err := agent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func podContainers(rt runtime.Runtime, pod string) (sandboxes, containers int) {
	sbs, _ := rt.ListPodSandbox(context.Background())
	for _, s := range sbs {
		if s.Metadata.Name == pod {
			sandboxes++
		}
	}
	cs, _ := rt.ListContainers(context.Background())
	for _, c := range cs {
		if c.Labels[agent.LabelPodName] == pod {
			containers++
		}
	}
	return sandboxes, containers
}

// TestAgentRestart restarts an agent over the same runtime: healthy
// containers keep running, and what belonged to pods deleted meanwhile
// (containers, sandboxes, volume directories) is removed.
func TestAgentRestart(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler = true })
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	rt := fake.New(fake.Config{})
	dataDir := t.TempDir()
	cfg := agent.Config{NodeName: "node-r", Client: cs, Runtime: rt, DataDir: dataDir, BackoffInitial: 200 * time.Millisecond, BackoffMax: time.Second}
	stop := startStoppable(t, cfg)

	ctx := context.Background()
	pods := cs.CoreV1().Pods("default")
	for _, name := range []string{"keep", "gone", "killed"} {
		p := newPod(name, "node-r", corev1.RestartPolicyAlways, nil)
		p.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
		p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "scratch", MountPath: "/scratch"}}
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lw := podLW(cs, "default")
	before := map[string]*corev1.Pod{}
	for _, name := range []string{"keep", "gone", "killed"} {
		before[name] = until(t, lw, &corev1.Pod{}, name, 30*time.Second, name+" Running", running)
	}

	t.Run("force-deleted pod is cleaned up", func(t *testing.T) {
		zero := int64(0)
		if err := pods.Delete(ctx, "killed", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "killed's sandbox and containers removed", func() bool {
			sbs, cs := podContainers(rt, "killed")
			return sbs == 0 && cs == 0
		})
	})

	stop()
	zero := int64(0)
	if err := pods.Delete(ctx, "gone", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	goneDir := filepath.Join(dataDir, "pods", string(before["gone"].UID))
	if _, err := os.Stat(goneDir); err != nil {
		t.Fatalf("gone's pod directory before the restart: %v", err)
	}

	startStoppable(t, cfg)
	eventually(t, 10*time.Second, "gone's sandbox and containers removed", func() bool {
		sbs, cs := podContainers(rt, "gone")
		return sbs == 0 && cs == 0
	})
	eventually(t, 10*time.Second, "gone's pod directory removed", func() bool {
		_, err := os.Stat(goneDir)
		return os.IsNotExist(err)
	})
	// The new agent writes keep's status once it has synced; give it a
	// round and check nothing changed.
	if _, err := pods.Patch(ctx, "keep", "application/merge-patch+json", []byte(`{"metadata":{"labels":{"poke":"1"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	after, err := pods.Get(ctx, "keep", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, a := before["keep"].Status.ContainerStatuses[0], after.Status.ContainerStatuses[0]
	if a.ContainerID != b.ContainerID || a.RestartCount != 0 || a.State.Running == nil || !a.State.Running.StartedAt.Equal(&b.State.Running.StartedAt) {
		t.Errorf("keep's container changed over the restart: %+v -> %+v", b, a)
	}
	if sbs, cs := podContainers(rt, "keep"); sbs != 1 || cs != 1 {
		t.Errorf("keep has %d sandboxes and %d containers", sbs, cs)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "pods", string(after.UID))); err != nil {
		t.Errorf("keep's pod directory: %v", err)
	}
}

func TestTerminationMessages(t *testing.T) {
	cs, rt, _ := startNode(t)
	ctx := context.Background()
	create := func(name string, policy corev1.TerminationMessagePolicy) {
		t.Helper()
		p := newPod(name, "node-a", corev1.RestartPolicyNever, map[string]string{fake.AnnotationExitCode: "3", fake.AnnotationRunSeconds: "2"})
		p.Spec.Containers[0].TerminationMessagePolicy = policy
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create("file", corev1.TerminationMessageReadFile)
	create("logs", corev1.TerminationMessageFallbackToLogsOnError)
	eventually(t, 10*time.Second, "containers created", func() bool { return rt.config("file", "main") != nil && rt.config("logs", "main") != nil })

	// What the containers would write: a message, and a log.
	var mount string
	for _, m := range rt.config("file", "main").Mounts {
		if m.ContainerPath == "/dev/termination-log" {
			mount = m.HostPath
		}
	}
	if mount == "" {
		t.Fatalf("no termination-log mount in %+v", rt.config("file", "main").Mounts)
	}
	if err := os.WriteFile(mount, []byte("disk full"), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(rt.sandboxConfig("logs").LogDirectory, rt.config("logs", "main").LogPath)
	if err := os.MkdirAll(filepath.Dir(logFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logFile, []byte("2026-01-02T03:04:05Z stderr F panic: boom\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	lw := podLW(cs, "default")
	for name, want := range map[string]string{"file": "disk full", "logs": "panic: boom\n"} {
		p := until(t, lw, &corev1.Pod{}, name, 20*time.Second, name+" Failed", func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
		term := p.Status.ContainerStatuses[0].State.Terminated
		if term == nil || term.ExitCode != 3 || !strings.HasSuffix(term.Message, want) {
			t.Errorf("%s: terminated %+v, want message ending %q", name, term, want)
		}
	}
}
