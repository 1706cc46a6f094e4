package agent

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/agent/probe"
)

// minStopGrace is the least a container gets to stop after its preStop
// hook used up the grace period (upstream's 2 s).
const minStopGrace = 2 * time.Second

// hookTimeout bounds a postStart HTTP hook.
const hookTimeout = 30 * time.Second

// stopContainer stops a container in the background: its preStop hook
// first (within the grace period), then the runtime's stop with what is
// left of it. A container already being stopped is left alone. msg is
// the Killing event's message ("" for the plain "Stopping container").
func (a *Agent) stopContainer(pod *corev1.Pod, uid types.UID, id string, observed RuntimeState, grace time.Duration, msg string) {
	a.mu.Lock()
	if a.stopping[id] {
		a.mu.Unlock()
		return
	}
	a.stopping[id] = true
	a.mu.Unlock()
	var (
		spec  *corev1.Container
		podIP string
	)
	if ps := observed.Pod(uid); ps != nil && pod != nil {
		if sb := ps.Sandbox(); sb != nil {
			podIP = sb.IP
		}
		for name, cs := range ps.Containers {
			for _, c := range cs {
				if c.ID == id {
					spec = findContainer(pod, name)
				}
			}
		}
	}
	if spec != nil {
		if msg == "" {
			msg = "Stopping container " + spec.Name
		}
		a.events.event(pod, spec.Name, corev1.EventTypeNormal, EventKilling, "%s", msg)
	}
	ctx := a.runCtx
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		left := grace
		if spec != nil && spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil {
			start := a.cfg.Clock.Now()
			hctx, cancel := context.WithTimeout(ctx, grace)
			if err := a.runHook(hctx, pod, spec, id, podIP, spec.Lifecycle.PreStop, grace); err != nil && ctx.Err() == nil {
				a.events.event(pod, spec.Name, corev1.EventTypeWarning, EventFailedPreStopHook, "PreStopHook failed: %v", err)
			}
			cancel()
			left = max(grace-a.cfg.Clock.Since(start), minStopGrace)
		}
		if err := a.cfg.Runtime.StopContainer(ctx, id, left); err != nil && ctx.Err() == nil {
			a.cfg.Logger.Warn("stopping container", "node", a.cfg.NodeName, "id", id, "err", err)
		}
		a.mu.Lock()
		delete(a.stopping, id)
		a.mu.Unlock()
		a.signal()
	}()
}

// postStart runs a container's postStart hook in the background; if it
// fails, the container is killed (and restarted as its policy says).
func (a *Agent) postStart(pod *corev1.Pod, c *corev1.Container, id, podIP string) {
	ctx := a.runCtx
	a.bg.Add(1)
	go func() {
		defer a.bg.Done()
		err := a.runHook(ctx, pod, c, id, podIP, c.Lifecycle.PostStart, hookTimeout)
		if err == nil || ctx.Err() != nil {
			return
		}
		a.events.event(pod, c.Name, corev1.EventTypeWarning, EventFailedPostStartHook, "%v", err)
		a.events.event(pod, c.Name, corev1.EventTypeNormal, EventKilling, "FailedPostStartHook")
		a.mu.Lock()
		busy := a.stopping[id]
		a.stopping[id] = true
		a.mu.Unlock()
		if busy {
			return
		}
		if err := a.cfg.Runtime.StopContainer(ctx, id, podGrace(pod)); err != nil && ctx.Err() == nil {
			a.cfg.Logger.Warn("stopping container after postStart failure", "id", id, "err", err)
		}
		a.mu.Lock()
		delete(a.stopping, id)
		a.mu.Unlock()
		a.signal()
	}()
}

// runHook runs one lifecycle handler against a running container.
func (a *Agent) runHook(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id, podIP string, h *corev1.LifecycleHandler, timeout time.Duration) error {
	t := probe.Target{Runtime: a.cfg.Runtime, ContainerID: id, PodIP: podIP, Container: c}
	if pod.Spec.HostNetwork {
		t.PodIP = a.cfg.NodeIP
	}
	where := fmt.Sprintf("for Container %q in Pod %q", c.Name, fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID))
	switch {
	case h.Exec != nil:
		out := probe.Exec(ctx, t, h.Exec.Command, 0)
		if out.Result != probe.Success {
			return fmt.Errorf("Exec lifecycle hook (%v) %s failed - error: %s", h.Exec.Command, where, strings.TrimSpace(out.Message))
		}
	case h.HTTPGet != nil:
		out := probe.HTTPGet(ctx, t, h.HTTPGet, timeout)
		if out.Result != probe.Success {
			return fmt.Errorf("HTTP lifecycle hook (%s) %s failed - error: %s", h.HTTPGet.Path, where, out.Message)
		}
	case h.Sleep != nil:
		select {
		case <-ctx.Done():
		case <-a.cfg.Clock.After(time.Duration(h.Sleep.Seconds) * time.Second):
		}
	}
	return nil
}

// podGrace is the pod's termination grace period.
func podGrace(pod *corev1.Pod) time.Duration {
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return defaultGrace
}
