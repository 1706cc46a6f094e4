package agent

import (
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// keepAttempts is how many containers of one name are kept: the current
// one and the previous one (for lastState and logs --previous).
const keepAttempts = 2

// planPod plans one desired pod.
func planPod(pod *corev1.Pod, ps *PodState, now time.Time, opts Options) ([]Action, time.Time) {
	if pod.DeletionTimestamp != nil {
		return planDeletion(pod, ps), time.Time{}
	}
	acts := planGarbage(pod, ps)
	sb := ps.Sandbox()
	if terminalPhase(pod.Status.Phase) || podDone(pod, ps) {
		return append(acts, stopAll(pod, ps, 0, "pod is finished")...), time.Time{}
	}
	switch {
	case sb == nil:
		return append(acts, Action{Kind: RunSandbox, Pod: pod, UID: pod.UID, Reason: "no sandbox"}), time.Time{}
	case sb.State != runtime.SandboxReady:
		return append(acts, Action{Kind: RunSandbox, Pod: pod, UID: pod.UID, Attempt: sb.Metadata.Attempt + 1, Reason: "sandbox is not ready"}), time.Time{}
	}
	initActs, initDone, wake := planInit(pod, ps, now, opts)
	acts = append(acts, initActs...)
	if !initDone {
		return acts, wake
	}
	for i := range pod.Spec.Containers {
		a, w := planContainer(pod, &pod.Spec.Containers[i], false, ps, now, opts)
		acts = append(acts, a...)
		wake = earliest(wake, w)
	}
	return acts, wake
}

// planInit starts init containers in order. Sidecars (init containers with
// restartPolicy Always) count as done once started and are kept running.
func planInit(pod *corev1.Pod, ps *PodState, now time.Time, opts Options) ([]Action, bool, time.Time) {
	var (
		acts []Action
		wake time.Time
	)
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		latest := ps.Latest(c.Name)
		if isSidecar(c) {
			a, w := planContainer(pod, c, true, ps, now, opts)
			acts, wake = append(acts, a...), earliest(wake, w)
			if latest == nil {
				return acts, false, wake
			}
			continue
		}
		switch {
		case latest == nil:
			return append(acts, startAction(pod, c.Name, true, 0, "init container not started")), false, wake
		case running(latest):
			return acts, false, wake
		case latest.ExitCode == 0:
			continue
		}
		// Failed: podDone covers restartPolicy Never.
		a, w := restart(pod, c.Name, true, latest, now, opts)
		return append(acts, a...), false, earliest(wake, w)
	}
	return acts, true, wake
}

// planContainer keeps one app container (or sidecar) running as its
// restart policy says.
func planContainer(pod *corev1.Pod, c *corev1.Container, init bool, ps *PodState, now time.Time, opts Options) ([]Action, time.Time) {
	latest := ps.Latest(c.Name)
	switch {
	case latest == nil:
		return []Action{startAction(pod, c.Name, init, 0, "container not started")}, time.Time{}
	case running(latest):
		return nil, time.Time{}
	case !willRestart(pod, c, latest):
		return nil, time.Time{}
	}
	return restart(pod, c.Name, init, latest, now, opts)
}

// restart starts the next attempt of an exited container once its
// back-off has passed.
func restart(pod *corev1.Pod, name string, init bool, latest *runtime.ContainerStatus, now time.Time, opts Options) ([]Action, time.Time) {
	at := latest.FinishedAt.Add(opts.backoff(latest))
	if now.Before(at) {
		return nil, at
	}
	return []Action{startAction(pod, name, init, latest.Metadata.Attempt+1, "restarting exited container")}, time.Time{}
}

func startAction(pod *corev1.Pod, name string, init bool, attempt uint32, reason string) Action {
	return Action{Kind: StartContainer, Pod: pod, UID: pod.UID, Container: name, Init: init, Attempt: attempt, Reason: reason}
}

// planDeletion stops a pod being deleted and, once nothing runs, deletes
// it for good.
func planDeletion(pod *corev1.Pod, ps *PodState) []Action {
	grace := defaultGrace
	if pod.DeletionGracePeriodSeconds != nil {
		grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	} else if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	acts := stopAll(pod, ps, grace, "pod is being deleted")
	for _, a := range acts {
		if a.Kind == KillContainer {
			return acts
		}
	}
	return append(acts, Action{Kind: DeletePod, Pod: pod, UID: pod.UID, Reason: "containers stopped"})
}

// stopAll kills running containers; once none runs, it stops the sandbox.
func stopAll(pod *corev1.Pod, ps *PodState, grace time.Duration, reason string) []Action {
	if ps == nil {
		return nil
	}
	var acts []Action
	for _, cs := range ps.Containers {
		for _, c := range cs {
			if running(c) {
				acts = append(acts, Action{Kind: KillContainer, Pod: pod, UID: pod.UID, ID: c.ID, Grace: grace, Reason: reason})
			}
		}
	}
	if len(acts) > 0 {
		return acts
	}
	for _, sb := range ps.Sandboxes {
		if sb.State == runtime.SandboxReady {
			acts = append(acts, Action{Kind: StopSandbox, Pod: pod, UID: pod.UID, ID: sb.ID, Reason: reason})
		}
	}
	return acts
}

// planGarbage removes exited containers beyond the kept attempts and old
// sandboxes that no kept container uses.
func planGarbage(pod *corev1.Pod, ps *PodState) []Action {
	if ps == nil {
		return nil
	}
	var acts []Action
	used := map[string]bool{}
	for _, cs := range ps.Containers {
		for i, c := range cs {
			if i < keepAttempts || running(c) {
				used[c.PodSandboxID] = true
				continue
			}
			acts = append(acts, Action{Kind: RemoveContainer, Pod: pod, UID: pod.UID, ID: c.ID, Reason: "old attempt"})
		}
	}
	for i, sb := range ps.Sandboxes {
		if i == 0 || used[sb.ID] {
			continue
		}
		if sb.State == runtime.SandboxReady {
			acts = append(acts, Action{Kind: StopSandbox, Pod: pod, UID: pod.UID, ID: sb.ID, Reason: "old sandbox"})
		}
		acts = append(acts, Action{Kind: RemoveSandbox, Pod: pod, UID: pod.UID, ID: sb.ID, Reason: "old sandbox"})
	}
	return acts
}

func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// willRestart says whether an exited container is started again.
func willRestart(pod *corev1.Pod, c *corev1.Container, latest *runtime.ContainerStatus) bool {
	if isSidecar(c) {
		return true
	}
	switch pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return latest.ExitCode != 0
	}
	return true
}

// podDone is true when nothing of the pod will run again: an init
// container failed under restartPolicy Never, or every app container has
// exited and none restarts.
func podDone(pod *corev1.Pod, ps *PodState) bool {
	if ps == nil {
		return false
	}
	if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
		for i := range pod.Spec.InitContainers {
			c := &pod.Spec.InitContainers[i]
			if l := ps.Latest(c.Name); !isSidecar(c) && l != nil && l.State == runtime.ContainerExited && l.ExitCode != 0 {
				return true
			}
		}
	}
	if len(pod.Spec.Containers) == 0 {
		return false
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		l := ps.Latest(c.Name)
		if l == nil || running(l) || willRestart(pod, c, l) {
			return false
		}
	}
	return true
}
