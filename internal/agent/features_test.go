package agent_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/fake"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// recording is the fake runtime keeping the config of each container
// created, by pod and container name.
type recording struct {
	*fake.Runtime
	mu      sync.Mutex
	configs map[string]*runtime.ContainerConfig
	sandbox map[string]*runtime.PodSandboxConfig
}

func (r *recording) CreateContainer(ctx context.Context, sb string, cfg *runtime.ContainerConfig, sbc *runtime.PodSandboxConfig) (string, error) {
	r.mu.Lock()
	r.configs[sbc.Metadata.Name+"/"+cfg.Metadata.Name] = cfg
	r.sandbox[sbc.Metadata.Name] = sbc
	r.mu.Unlock()
	return r.Runtime.CreateContainer(ctx, sb, cfg, sbc)
}

func (r *recording) config(pod, c string) *runtime.ContainerConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.configs[pod+"/"+c]
}

func (r *recording) sandboxConfig(pod string) *runtime.PodSandboxConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sandbox[pod]
}

// startNode runs a control plane and one agent with its own data dir.
func startNode(t *testing.T) (kubernetes.Interface, *recording, string) {
	t.Helper()
	srv := servertest.Start(t, func(c *server.Config) { c.DisableScheduler = true })
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	rt := &recording{Runtime: fake.New(fake.Config{}), configs: map[string]*runtime.ContainerConfig{}, sandbox: map[string]*runtime.PodSandboxConfig{}}
	dir := t.TempDir()
	a, err := agent.New(agent.Config{NodeName: "node-a", Client: cs, Runtime: rt, NodeIP: "10.64.0.9", DataDir: dir,
		ClusterDNS: []string{"10.96.0.10"}, BackoffInitial: 200 * time.Millisecond, BackoffMax: time.Second})
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
	return cs, rt, dir
}

func envOf(cfg *runtime.ContainerConfig) map[string]string {
	m := map[string]string{}
	for _, kv := range cfg.Env {
		m[kv.Key] = kv.Value
	}
	return m
}

func waiting(p *corev1.Pod, reason string) bool {
	return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
		p.Status.ContainerStatuses[0].State.Waiting.Reason == reason
}

func running(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].State.Running != nil
}

func TestEnvVolumesAndEvents(t *testing.T) {
	cs, rt, dir := startNode(t)
	ctx := context.Background()
	core := cs.CoreV1()
	if _, err := core.Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "sec"},
		Data: map[string][]byte{"pw": []byte("hunter2")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mode := int32(0o600)
	pod := newPod("cfg", "node-a", corev1.RestartPolicyAlways, nil)
	pod.Labels = map[string]string{"app": "cfg"}
	// No service account token volume: the mounts below are the test's.
	pod.Spec.AutomountServiceAccountToken = ptr.To(false)
	c := &pod.Spec.Containers[0]
	c.Command = []string{"/bin/server", "--pw=$(PW)"}
	c.Env = []corev1.EnvVar{
		{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"}, Key: "greeting"}}},
		{Name: "PW", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "pw"}}},
		{Name: "MY_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "MY_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
	}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "config", MountPath: "/etc/app"}, {Name: "scratch", MountPath: "/scratch", SubPath: "sub"}, {Name: "info", MountPath: "/info"}}
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-config"},
			Items: []corev1.KeyToPath{{Key: "greeting", Path: "greeting.txt", Mode: &mode}}}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}}},
	}
	if _, err := core.Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	lw := podLW(cs, "default")
	// The ConfigMap is missing: the volume cannot be set up.
	got := until(t, lw, &corev1.Pod{}, "cfg", 30*time.Second, "cfg waiting", func(p *corev1.Pod) bool { return waiting(p, agent.ReasonContainerCreating) })
	waitEvent(t, cs, "cfg", agent.EventFailedMount, `configmap "app-config" not found`)
	if _, err := core.ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app-config"},
		Data: map[string]string{"greeting": "hello"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got = until(t, lw, &corev1.Pod{}, "cfg", 30*time.Second, "cfg running", running)
	cfgUID := got.UID
	cfg := rt.config("cfg", "main")
	env := envOf(cfg)
	if env["GREETING"] != "hello" || env["PW"] != "hunter2" || env["MY_NAME"] != "cfg" || env["MY_IP"] != got.Status.PodIP || env["KUBERNETES_SERVICE_HOST"] == "" {
		t.Errorf("env: %v", env)
	}
	if strings.Join(cfg.Command, " ") != "/bin/server --pw=hunter2" {
		t.Errorf("command %q", cfg.Command)
	}
	volDir := filepath.Join(dir, "pods", string(got.UID), "volumes")
	want := []runtime.Mount{
		{ContainerPath: "/etc/app", HostPath: filepath.Join(volDir, "kubernetes.io~configmap", "config"), ReadOnly: true},
		{ContainerPath: "/scratch", HostPath: filepath.Join(volDir, "kubernetes.io~empty-dir", "scratch", "sub")},
		{ContainerPath: "/info", HostPath: filepath.Join(volDir, "kubernetes.io~downward-api", "info"), ReadOnly: true},
		{ContainerPath: "/dev/termination-log", HostPath: filepath.Join(dir, "pods", string(got.UID), "containers", "main", "0")},
	}
	if len(cfg.Mounts) != len(want) {
		t.Fatalf("mounts %+v", cfg.Mounts)
	}
	for i := range want {
		if cfg.Mounts[i] != want[i] {
			t.Errorf("mount %d: %+v, want %+v", i, cfg.Mounts[i], want[i])
		}
	}
	if b, err := os.ReadFile(filepath.Join(want[0].HostPath, "greeting.txt")); err != nil || string(b) != "hello" {
		t.Errorf("greeting.txt: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(want[2].HostPath, "labels")); err != nil || string(b) != `app="cfg"` {
		t.Errorf("labels: %q %v", b, err)
	}
	if cfg.LogPath != "main/0.log" || cfg.Resources == nil || cfg.Resources.CPUShares != 2 {
		t.Errorf("log path %q resources %+v", cfg.LogPath, cfg.Resources)
	}
	sb := rt.sandboxConfig("cfg")
	if sb.LogDirectory != filepath.Join(dir, "logs", "default_cfg_"+string(got.UID)) || sb.DNS == nil || sb.DNS.Servers[0] != "10.96.0.10" ||
		sb.DNS.Searches[0] != "default.svc.cluster.local" {
		t.Errorf("sandbox: %+v dns %+v", sb, sb.DNS)
	}
	for _, reason := range []string{agent.EventPulling, agent.EventPulled, agent.EventCreated, agent.EventStarted} {
		waitEvent(t, cs, "cfg", reason, "")
	}

	// A missing env source: CreateContainerConfigError until it exists.
	p2 := newPod("env-missing", "node-a", corev1.RestartPolicyAlways, nil)
	p2.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{Prefix: "X_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "later"}}}}
	if _, err := core.Pods("default").Create(ctx, p2, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got = until(t, lw, &corev1.Pod{}, "env-missing", 30*time.Second, "CreateContainerConfigError", func(p *corev1.Pod) bool {
		return waiting(p, agent.ReasonCreateContainerConfigError)
	})
	if msg := got.Status.ContainerStatuses[0].State.Waiting.Message; msg != `configmap "later" not found` {
		t.Errorf("message %q", msg)
	}
	if _, err := core.ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "later"},
		Data: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	until(t, lw, &corev1.Pod{}, "env-missing", 30*time.Second, "env-missing running", running)
	if env := envOf(rt.config("env-missing", "main")); env["X_k"] != "v" {
		t.Errorf("envFrom: %v", env)
	}

	// An unsupported volume keeps the pod pending with an event.
	p3 := newPod("pvc", "node-a", corev1.RestartPolicyAlways, nil)
	p3.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "claim"}}}}
	if _, err := core.Pods("default").Create(ctx, p3, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, cs, "pvc", agent.EventFailedMount, "persistentVolumeClaim is not supported")
	if p, err := core.Pods("default").Get(ctx, "pvc", metav1.GetOptions{}); err != nil || p.Status.Phase != corev1.PodPending {
		t.Errorf("pvc pod: %v %v", p.Status.Phase, err)
	}

	// Deleting the pod removes its directory.
	zero := int64(0)
	if err := core.Pods("default").Delete(ctx, "cfg", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	waitGone(t, cs, "cfg", 30*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "pods", string(cfgUID))); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pod directory of cfg kept")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitEvent waits for an event about pod with reason whose message
// contains msg.
func waitEvent(t *testing.T, cs kubernetes.Interface, pod, reason, msg string) *corev1.Event {
	t.Helper()
	var found *corev1.Event
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for found == nil {
		list, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("waiting for event %s of %s: %v", reason, pod, err)
		}
		for i := range list.Items {
			e := &list.Items[i]
			if e.InvolvedObject.Name == pod && e.Reason == reason && strings.Contains(e.Message, msg) {
				found = e
			}
		}
		if found == nil {
			select {
			case <-ctx.Done():
				t.Fatalf("no event %s %q for %s", reason, msg, pod)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return found
}

func TestProbes(t *testing.T) {
	cs, _, _ := startNode(t)
	ctx := context.Background()
	var healthy atomic.Bool
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := l.Addr().(*net.TCPAddr).Port

	ready := newPod("ready", "node-a", corev1.RestartPolicyAlways, nil)
	ready.Spec.Containers[0].ReadinessProbe = &corev1.Probe{PeriodSeconds: 1, ProbeHandler: corev1.ProbeHandler{
		HTTPGet: &corev1.HTTPGetAction{Host: "127.0.0.1", Path: "/healthz", Port: intstr.FromInt32(int32(port))}}}
	live := newPod("live", "node-a", corev1.RestartPolicyAlways, nil)
	live.Spec.Containers[0].LivenessProbe = &corev1.Probe{PeriodSeconds: 1, FailureThreshold: 1, ProbeHandler: corev1.ProbeHandler{
		Exec: &corev1.ExecAction{Command: []string{"false"}}}}
	hook := newPod("hook", "node-a", corev1.RestartPolicyAlways, nil)
	hook.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"false"}}}}
	for _, p := range []*corev1.Pod{ready, live, hook} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	lw := podLW(cs, "default")
	got := until(t, lw, &corev1.Pod{}, "ready", 30*time.Second, "ready running", running)
	if got.Status.ContainerStatuses[0].Ready || podCondition(got, corev1.PodReady) == corev1.ConditionTrue {
		t.Errorf("ready before its probe passed: %+v", got.Status)
	}
	waitEvent(t, cs, "ready", agent.EventUnhealthy, "Readiness probe failed: HTTP probe failed with statuscode: 503")
	healthy.Store(true)
	until(t, lw, &corev1.Pod{}, "ready", 30*time.Second, "ready Ready", func(p *corev1.Pod) bool {
		return podCondition(p, corev1.PodReady) == corev1.ConditionTrue && p.Status.ContainerStatuses[0].Ready
	})
	healthy.Store(false)
	until(t, lw, &corev1.Pod{}, "ready", 30*time.Second, "ready not Ready again", func(p *corev1.Pod) bool {
		return podCondition(p, corev1.PodReady) == corev1.ConditionFalse && running(p)
	})

	until(t, lw, &corev1.Pod{}, "live", 30*time.Second, "live restarted by its liveness probe", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].RestartCount >= 1
	})
	waitEvent(t, cs, "live", agent.EventUnhealthy, "Liveness probe failed")
	waitEvent(t, cs, "live", agent.EventKilling, "Container main failed liveness probe, will be restarted")

	until(t, lw, &corev1.Pod{}, "hook", 30*time.Second, "hook restarted after its postStart hook failed", func(p *corev1.Pod) bool {
		return len(p.Status.ContainerStatuses) > 0 && p.Status.ContainerStatuses[0].RestartCount >= 1
	})
	waitEvent(t, cs, "hook", agent.EventFailedPostStartHook, `Exec lifecycle hook ([false]) for Container "main" in Pod "hook_default(`)
	waitEvent(t, cs, "hook", agent.EventBackOff, "Back-off restarting failed container main")
}
