package agent

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/runtime"
)

// t0 is the fixed "now" of the table tests.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(sec float64) time.Time { return t0.Add(time.Duration(sec * float64(time.Second))) }

var testOpts = Options{HostIP: "10.0.0.1", RuntimeName: "fake"}

type podOpt func(*corev1.Pod)

func testPod(opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-p"},
		Spec: corev1.PodSpec{
			NodeName:      "n",
			RestartPolicy: corev1.RestartPolicyAlways,
			Containers:    []corev1.Container{{Name: "a", Image: "img"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func policy(r corev1.RestartPolicy) podOpt { return func(p *corev1.Pod) { p.Spec.RestartPolicy = r } }

func containers(names ...string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers = nil
		for _, n := range names {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: n, Image: "img"})
		}
	}
}

func initContainers(names ...string) podOpt {
	return func(p *corev1.Pod) {
		for _, n := range names {
			p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: n, Image: "img"})
		}
	}
}

func deleting(grace int64) podOpt {
	return func(p *corev1.Pod) {
		ts := metav1.NewTime(t0)
		p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &ts, &grace
	}
}

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

// world builds a RuntimeState from short descriptions.
type world struct {
	sbs []*runtime.PodSandboxStatus
	cs  []*runtime.ContainerStatus
}

func (w *world) sandbox(uid types.UID, id string, attempt uint32, ready bool) *world {
	st := runtime.SandboxNotReady
	if ready {
		st = runtime.SandboxReady
	}
	w.sbs = append(w.sbs, &runtime.PodSandboxStatus{IP: "10.244.0.5", PodSandbox: runtime.PodSandbox{
		ID: id, State: st, Metadata: runtime.PodSandboxMetadata{Name: "p", Namespace: "ns", UID: string(uid), Attempt: attempt}}})
	return w
}

func (w *world) running(sb, id, name string, attempt uint32, started time.Time) *world {
	w.cs = append(w.cs, &runtime.ContainerStatus{StartedAt: started, Container: runtime.Container{
		ID: id, PodSandboxID: sb, State: runtime.ContainerRunning, Metadata: runtime.ContainerMetadata{Name: name, Attempt: attempt}, ImageRef: "sha256:x"}})
	return w
}

func (w *world) exited(sb, id, name string, attempt uint32, code int32, started, finished time.Time) *world {
	w.cs = append(w.cs, &runtime.ContainerStatus{StartedAt: started, FinishedAt: finished, ExitCode: code, Container: runtime.Container{
		ID: id, PodSandboxID: sb, State: runtime.ContainerExited, Metadata: runtime.ContainerMetadata{Name: name, Attempt: attempt}, ImageRef: "sha256:x"}})
	return w
}

func (w *world) state() RuntimeState { return NewRuntimeState(w.sbs, w.cs) }

func newWorld() *world { return &world{} }
