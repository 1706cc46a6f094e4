package agent

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/runtime"
)

// ActionKind names what an Action does.
type ActionKind string

// The actions Plan returns.
const (
	// RunSandbox creates the pod's sandbox (Attempt).
	RunSandbox ActionKind = "RunSandbox"
	// StartContainer pulls the image if needed, creates the container
	// (Container, Attempt) in the pod's newest sandbox and starts it.
	StartContainer ActionKind = "StartContainer"
	// KillContainer stops the running container ID within Grace.
	KillContainer ActionKind = "KillContainer"
	// RemoveContainer removes the exited container ID.
	RemoveContainer ActionKind = "RemoveContainer"
	// StopSandbox stops sandbox ID (and whatever still runs in it).
	StopSandbox ActionKind = "StopSandbox"
	// RemoveSandbox removes sandbox ID and its containers.
	RemoveSandbox ActionKind = "RemoveSandbox"
	// DeletePod finishes a graceful deletion: delete Pod with grace 0.
	DeletePod ActionKind = "DeletePod"
)

// Action is one step towards the desired state.
type Action struct {
	Kind ActionKind
	// Pod is the desired pod; nil for orphans.
	Pod *corev1.Pod
	// UID is the pod's UID.
	UID types.UID
	// Container is the container's name (StartContainer); Init marks an
	// init container.
	Container string
	Init      bool
	// Attempt is the attempt number of a new sandbox or container.
	Attempt uint32
	// ID is the sandbox or container acted on.
	ID string
	// Grace is the stop timeout of KillContainer.
	Grace time.Duration
	// Reason says why, for logs and tests.
	Reason string
}

// Options are the agent's policies that Plan and PodStatus depend on.
type Options struct {
	// BackoffInitial and BackoffMax bound the crash-loop back-off
	// (defaults 10 s and 5 min).
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// HostIP is the node's IP, reported as the pods' hostIP.
	HostIP string
	// RuntimeName prefixes container IDs ("fake://...").
	RuntimeName string
}

// orphanGrace is the stop timeout for containers of pods the API no
// longer has.
const orphanGrace = 2 * time.Second

// defaultGrace is terminationGracePeriodSeconds when unset.
const defaultGrace = 30 * time.Second

func (o Options) withDefaults() Options {
	if o.BackoffInitial <= 0 {
		o.BackoffInitial = 10 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 5 * time.Minute
	}
	if o.RuntimeName == "" {
		o.RuntimeName = "cri"
	}
	return o
}

// backoff is how long to wait after the exit of a container with the
// given restart count before starting it again: nothing the first time,
// then initial, doubling up to max. A container that ran for twice max
// before it exited restarts at once.
func (o Options) backoff(c *runtime.ContainerStatus) time.Duration {
	if c.Metadata.Attempt == 0 || (!c.StartedAt.IsZero() && c.FinishedAt.Sub(c.StartedAt) >= 2*o.BackoffMax) {
		return 0
	}
	d := o.BackoffInitial
	for i := uint32(1); i < c.Metadata.Attempt && d < o.BackoffMax; i++ {
		d *= 2
	}
	return min(d, o.BackoffMax)
}

// Plan returns the actions that bring the runtime towards the desired pods
// (which must be every pod bound to the node: anything else found in the
// runtime is removed) and the earliest time at which waiting alone would
// change the plan (a back-off ending), or the zero time.
func Plan(desired []*corev1.Pod, observed RuntimeState, now time.Time, opts Options) ([]Action, time.Time) {
	opts = opts.withDefaults()
	var (
		actions []Action
		wake    time.Time
	)
	want := make(map[types.UID]bool, len(desired))
	for _, pod := range desired {
		want[pod.UID] = true
		acts, w := planPod(pod, observed.Pod(pod.UID), now, opts)
		actions = append(actions, acts...)
		wake = earliest(wake, w)
	}
	for uid, ps := range observed.Pods {
		if !want[uid] {
			actions = append(actions, planOrphan(uid, ps)...)
		}
	}
	return actions, wake
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// planOrphan removes everything of a pod that is gone: running containers
// are killed first, then the sandboxes (with their containers) go.
func planOrphan(uid types.UID, ps *PodState) []Action {
	var acts []Action
	for _, cs := range ps.Containers {
		for _, c := range cs {
			if running(c) {
				acts = append(acts, Action{Kind: KillContainer, UID: uid, ID: c.ID, Grace: orphanGrace, Reason: "pod is gone"})
			}
		}
	}
	if len(acts) > 0 {
		return acts
	}
	for _, sb := range ps.Sandboxes {
		if sb.State == runtime.SandboxReady {
			acts = append(acts, Action{Kind: StopSandbox, UID: uid, ID: sb.ID, Reason: "pod is gone"})
		}
		acts = append(acts, Action{Kind: RemoveSandbox, UID: uid, ID: sb.ID, Reason: "pod is gone"})
	}
	if len(ps.Sandboxes) == 0 {
		for _, cs := range ps.Containers {
			for _, c := range cs {
				acts = append(acts, Action{Kind: RemoveContainer, UID: uid, ID: c.ID, Reason: "pod is gone"})
			}
		}
	}
	return acts
}

// running is true for a container that is (or is about to be) running.
func running(c *runtime.ContainerStatus) bool {
	return c.State == runtime.ContainerRunning || c.State == runtime.ContainerCreated
}

func terminalPhase(p corev1.PodPhase) bool {
	return p == corev1.PodSucceeded || p == corev1.PodFailed
}
