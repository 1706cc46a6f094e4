package agent

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Waiting reasons the agent reports.
const (
	ReasonContainerCreating = "ContainerCreating"
	ReasonPodInitializing   = "PodInitializing"
	ReasonCrashLoopBackOff  = "CrashLoopBackOff"
	ReasonCompleted         = "Completed"
	ReasonError             = "Error"
)

// StartError is why the last start of a container failed (ErrImagePull,
// CreateContainerError, ...); the agent keeps it until the next attempt.
type StartError struct {
	Reason, Message string
}

// PodStatus computes the status a pod should show given what the runtime
// holds for it (ps may be nil), the start errors of its containers and
// what the probes say of its running containers (by container ID; a
// probed container missing there is not started or not ready yet).
// Fields the agent does not own (qosClass, nominatedNodeName, conditions
// of other types) are kept from pod.Status. Times are whole seconds, as
// the API stores them, so an unchanged status compares equal.
func PodStatus(pod *corev1.Pod, ps *PodState, errs map[string]StartError, health map[string]ContainerHealth, now time.Time, opts Options) corev1.PodStatus {
	opts = opts.withDefaults()
	st := *pod.Status.DeepCopy()
	if st.StartTime == nil {
		t := metaTime(now)
		st.StartTime = &t
	}
	if opts.HostIP != "" {
		st.HostIP = opts.HostIP
		st.HostIPs = []corev1.HostIP{{IP: opts.HostIP}}
	}
	ip := ""
	if sb := ps.Sandbox(); sb != nil {
		ip = sb.IP
	}
	if pod.Spec.HostNetwork {
		ip = opts.HostIP
	}
	if ip != "" {
		st.PodIP = ip
		st.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	initDone := true
	st.InitContainerStatuses = nil
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs := containerStatus(pod, c, ps, errs, health, now, opts, ReasonPodInitializing)
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
		if isSidecar(c) {
			initDone = initDone && cs.Started != nil && *cs.Started
		} else {
			initDone = initDone && cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0
		}
	}
	// Initialised stays initialised (upstream's rule): once an app
	// container has run, a sidecar that stops or restarts, or an init
	// container's record that was cleaned up, does not send the pod back
	// to Pending.
	if !initDone && (appContainerRan(pod, ps) || conditionTrue(pod.Status.Conditions, corev1.PodInitialized)) {
		initDone = true
	}
	waitReason := ReasonContainerCreating
	if !initDone {
		waitReason = ReasonPodInitializing
	}
	st.ContainerStatuses = nil
	for i := range pod.Spec.Containers {
		st.ContainerStatuses = append(st.ContainerStatuses, containerStatus(pod, &pod.Spec.Containers[i], ps, errs, health, now, opts, waitReason))
	}
	if !terminalPhase(st.Phase) {
		st.Phase = podPhase(pod, ps, initDone, st.InitContainerStatuses)
	}
	setConditions(&st, pod, ps, initDone, now)
	return st
}

// appContainerRan says whether any of the pod's app containers was
// created.
func appContainerRan(pod *corev1.Pod, ps *PodState) bool {
	for i := range pod.Spec.Containers {
		if ps.Latest(pod.Spec.Containers[i].Name) != nil {
			return true
		}
	}
	return false
}

// conditionTrue says whether the condition of type t is True.
func conditionTrue(conds []corev1.PodCondition, t corev1.PodConditionType) bool {
	i := findCondition(conds, t)
	return i >= 0 && conds[i].Status == corev1.ConditionTrue
}

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second).UTC()) }

// containerStatus reports one container from its newest two attempts.
func containerStatus(pod *corev1.Pod, c *corev1.Container, ps *PodState, errs map[string]StartError, health map[string]ContainerHealth, now time.Time, opts Options, waitReason string) corev1.ContainerStatus {
	f := false
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: &f}
	var attempts []*runtime.ContainerStatus
	if ps != nil {
		attempts = ps.Containers[c.Name]
	}
	if len(attempts) == 0 {
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: waitReason}
		if e, ok := errs[c.Name]; ok {
			cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: e.Reason, Message: e.Message}
		}
		return cs
	}
	latest := attempts[0]
	cs.RestartCount = int32(latest.Metadata.Attempt)
	cs.ContainerID = opts.RuntimeName + "://" + latest.ID
	cs.ImageID = latest.ImageRef
	if len(attempts) > 1 {
		cs.LastTerminationState.Terminated = terminated(attempts[1], opts)
	}
	switch latest.State {
	case runtime.ContainerRunning:
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metaTime(latest.StartedAt)}
		h, ok := health[latest.ID]
		if !ok {
			h = ContainerHealth{Started: c.StartupProbe == nil, Ready: c.StartupProbe == nil && c.ReadinessProbe == nil}
		}
		cs.Started = &h.Started
		cs.Ready = h.Ready
	case runtime.ContainerExited:
		cs.State.Terminated = terminated(latest, opts)
		if delay := opts.backoff(latest); willRestart(pod, c, latest) && now.Before(latest.FinishedAt.Add(delay)) {
			cs.LastTerminationState.Terminated = cs.State.Terminated
			cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason:  ReasonCrashLoopBackOff,
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", delay, c.Name, pod.Name, pod.Namespace, pod.UID),
			}}
		}
	default:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: ReasonContainerCreating}
	}
	if e, ok := errs[c.Name]; ok && cs.State.Running == nil {
		cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: e.Reason, Message: e.Message}}
	}
	return cs
}

func terminated(c *runtime.ContainerStatus, opts Options) *corev1.ContainerStateTerminated {
	reason := c.Reason
	if reason == "" {
		reason = ReasonError
		if c.ExitCode == 0 {
			reason = ReasonCompleted
		}
	}
	t := &corev1.ContainerStateTerminated{
		ExitCode:    c.ExitCode,
		Reason:      reason,
		Message:     c.Message,
		FinishedAt:  metaTime(c.FinishedAt),
		ContainerID: opts.RuntimeName + "://" + c.ID,
	}
	if !c.StartedAt.IsZero() {
		t.StartedAt = metaTime(c.StartedAt)
	}
	return t
}

// podPhase follows upstream's rules: Pending until initialised and every
// container has run; Running while one runs or will restart; Succeeded
// or Failed once all have exited for good.
func podPhase(pod *corev1.Pod, ps *PodState, initDone bool, inits []corev1.ContainerStatus) corev1.PodPhase {
	if !initDone {
		if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
			for i, s := range inits {
				if t := s.State.Terminated; t != nil && t.ExitCode != 0 && !isSidecar(&pod.Spec.InitContainers[i]) {
					return corev1.PodFailed
				}
			}
		}
		return corev1.PodPending
	}
	var waiting, run, stopped, succeeded int
	for i := range pod.Spec.Containers {
		l := ps.Latest(pod.Spec.Containers[i].Name)
		switch {
		case l == nil || l.State == runtime.ContainerCreated:
			waiting++
		case l.State == runtime.ContainerRunning:
			run++
		default:
			stopped++
			if l.ExitCode == 0 {
				succeeded++
			}
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case run > 0:
		return corev1.PodRunning
	case pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || pod.Spec.RestartPolicy == "":
		return corev1.PodRunning
	case stopped == succeeded:
		return corev1.PodSucceeded
	case pod.Spec.RestartPolicy == corev1.RestartPolicyNever:
		return corev1.PodFailed
	}
	return corev1.PodRunning
}

// setConditions sets the conditions the agent owns, keeping the
// transition time of those that did not change.
func setConditions(st *corev1.PodStatus, pod *corev1.Pod, ps *PodState, initDone bool, now time.Time) {
	sb := ps.Sandbox()
	sandboxReady := sb != nil && sb.State == runtime.SandboxReady
	var notInit, notReady []string
	for _, s := range st.InitContainerStatuses {
		if s.State.Terminated == nil || s.State.Terminated.ExitCode != 0 {
			if s.Started == nil || !*s.Started || s.State.Terminated != nil {
				notInit = append(notInit, s.Name)
			}
		}
	}
	for _, s := range st.ContainerStatuses {
		if !s.Ready {
			notReady = append(notReady, s.Name)
		}
	}
	cond := func(t corev1.PodConditionType, ok bool, reason, msg string) {
		c := corev1.PodCondition{Type: t, Status: corev1.ConditionTrue}
		if !ok {
			c.Status, c.Reason, c.Message = corev1.ConditionFalse, reason, msg
		}
		setCondition(st, c, now)
	}
	if i := findCondition(st.Conditions, corev1.PodScheduled); i < 0 {
		cond(corev1.PodScheduled, true, "", "")
	}
	cond(corev1.PodReadyToStartContainers, sandboxReady, "", "")
	cond(corev1.PodInitialized, initDone, "ContainersNotInitialized", listMsg("containers with incomplete status", notInit))
	ready, reason, msg := len(notReady) == 0, "ContainersNotReady", listMsg("containers with unready status", notReady)
	if terminalPhase(st.Phase) {
		ready, reason, msg = false, "PodCompleted", ""
	}
	cond(corev1.ContainersReady, ready, reason, msg)
	podReady, podReason, podMsg := ready, reason, msg
	if ready {
		var gates []string
		for _, g := range pod.Spec.ReadinessGates {
			if i := findCondition(st.Conditions, g.ConditionType); i < 0 || st.Conditions[i].Status != corev1.ConditionTrue {
				gates = append(gates, string(g.ConditionType))
			}
		}
		if len(gates) > 0 {
			podReady, podReason, podMsg = false, "ReadinessGatesNotReady", listMsg("corresponding condition of pod readiness gate", gates)
		}
	}
	cond(corev1.PodReady, podReady, podReason, podMsg)
}

func listMsg(prefix string, names []string) string {
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	return fmt.Sprintf("%s: [%s]", prefix, strings.Join(names, " "))
}

func findCondition(cs []corev1.PodCondition, t corev1.PodConditionType) int {
	for i := range cs {
		if cs[i].Type == t {
			return i
		}
	}
	return -1
}

// setCondition replaces or appends c; the transition time moves only when
// the status changes.
func setCondition(st *corev1.PodStatus, c corev1.PodCondition, now time.Time) {
	i := findCondition(st.Conditions, c.Type)
	if i >= 0 && st.Conditions[i].Status == c.Status {
		c.LastTransitionTime = st.Conditions[i].LastTransitionTime
	} else {
		c.LastTransitionTime = metaTime(now)
	}
	c.LastProbeTime = metav1.Time{}
	if i >= 0 {
		st.Conditions[i] = c
		return
	}
	st.Conditions = append(st.Conditions, c)
}
