package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/agent/probe"
	"github.com/skiffkube/skiff/internal/runtime"
)

// ContainerHealth is what a running container's probes say: whether its
// startup probe passed (or it has none) and whether it is ready.
type ContainerHealth struct {
	Started, Ready bool
}

// prober runs the probes of running containers: one goroutine per
// container that has any, stopped when the container stops running or
// the agent stops. Containers without probes cost nothing.
type prober struct {
	a *Agent

	mu sync.Mutex
	// workers by container ID.
	workers map[string]*probeWorker
}

// probeWorker probes one container.
type probeWorker struct {
	pod       *corev1.Pod
	container *corev1.Container
	id, podIP string
	cancel    context.CancelFunc
	// states by kind; read and written under prober.mu.
	states map[probe.Kind]*probe.State
	// failed is set (to the Killing message) once a liveness or startup
	// probe failed; the agent then kills the container.
	failed string
	killed bool
}

func newProber(a *Agent) *prober { return &prober{a: a} }

func hasProbes(c *corev1.Container) bool {
	return c.LivenessProbe != nil || c.ReadinessProbe != nil || c.StartupProbe != nil
}

// sync starts workers for running containers with probes and stops the
// workers of containers that are no longer running. When partial (not
// every pod is known: the API is unreachable), no worker is stopped.
func (p *prober) sync(desired []*corev1.Pod, observed RuntimeState, partial bool) {
	var want map[string]bool
	for _, pod := range desired {
		if pod.DeletionTimestamp != nil {
			continue
		}
		ps := observed.Pod(pod.UID)
		for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
			for i := range list {
				c := &list[i]
				if !hasProbes(c) {
					continue
				}
				latest := ps.Latest(c.Name)
				if latest == nil || latest.State != runtime.ContainerRunning {
					continue
				}
				if want == nil {
					want = map[string]bool{}
				}
				want[latest.ID] = true
				p.ensure(pod, c, latest, ps.Sandbox())
			}
		}
	}
	if partial {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, w := range p.workers {
		if !want[id] {
			w.cancel()
			delete(p.workers, id)
		}
	}
}

// ensure starts the worker of one container if it has none.
func (p *prober) ensure(pod *corev1.Pod, c *corev1.Container, cs *runtime.ContainerStatus, sb *runtime.PodSandboxStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.workers[cs.ID]; ok {
		return
	}
	w := &probeWorker{pod: pod, container: c, id: cs.ID, states: map[probe.Kind]*probe.State{}}
	if sb != nil {
		w.podIP = sb.IP
	}
	if pod.Spec.HostNetwork {
		w.podIP = p.a.cfg.NodeIP
	}
	for kind, pr := range map[probe.Kind]*corev1.Probe{probe.Startup: c.StartupProbe, probe.Liveness: c.LivenessProbe, probe.Readiness: c.ReadinessProbe} {
		if pr != nil {
			w.states[kind] = probe.NewState(kind, probe.ParamsOf(pr, kind), cs.StartedAt)
		}
	}
	ctx, cancel := context.WithCancel(p.a.runCtx)
	w.cancel = cancel
	if p.workers == nil {
		p.workers = map[string]*probeWorker{}
	}
	p.workers[cs.ID] = w
	p.a.bg.Add(1)
	go func() {
		defer p.a.bg.Done()
		p.run(ctx, w)
	}()
}

// run probes until ctx ends or a liveness or startup probe fails.
func (p *prober) run(ctx context.Context, w *probeWorker) {
	clk := p.a.cfg.Clock
	for {
		kind, at := p.next(w)
		if kind == "" {
			return
		}
		if d := at.Sub(clk.Now()); d > 0 {
			t := clk.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C():
			}
		}
		if ctx.Err() != nil {
			return
		}
		if !p.probeOnce(ctx, w, kind) {
			return
		}
	}
}

// next is the probe to run next and when: the startup probe until it
// succeeds, then the earliest of liveness and readiness.
func (p *prober) next(w *probeWorker) (probe.Kind, time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.failed != "" {
		return "", time.Time{}
	}
	if s := w.states[probe.Startup]; s != nil && s.Result() != probe.Success {
		return probe.Startup, s.Next()
	}
	var (
		kind probe.Kind
		at   time.Time
	)
	for _, k := range []probe.Kind{probe.Liveness, probe.Readiness} {
		if s := w.states[k]; s != nil && (kind == "" || s.Next().Before(at)) {
			kind, at = k, s.Next()
		}
	}
	return kind, at
}

// probeOnce runs one probe and records its outcome; it returns false
// when the worker should stop (the container is to be killed).
func (p *prober) probeOnce(ctx context.Context, w *probeWorker, kind probe.Kind) bool {
	spec := w.probe(kind)
	params := w.params(kind)
	out := probe.Run(ctx, &spec.ProbeHandler, probe.Target{Runtime: p.a.cfg.Runtime, ContainerID: w.id, PodIP: w.podIP, Container: w.container}, params.Timeout)
	if ctx.Err() != nil {
		return false
	}
	if out.Result == probe.Failure {
		p.a.events.event(w.pod, w.container.Name, corev1.EventTypeWarning, EventUnhealthy, "%s probe failed: %s", kind, strings.TrimSpace(out.Message))
	}
	p.mu.Lock()
	s := w.states[kind]
	changed := s.Observe(out.Result, p.a.cfg.Clock.Now())
	stop := false
	if kind != probe.Readiness && s.Result() == probe.Failure {
		w.failed = fmt.Sprintf("Container %s failed %s probe, will be restarted", w.container.Name, strings.ToLower(string(kind)))
		stop = true
	}
	p.mu.Unlock()
	if changed || stop {
		p.a.signal()
	}
	return !stop
}

func (w *probeWorker) probe(kind probe.Kind) *corev1.Probe {
	switch kind {
	case probe.Startup:
		return w.container.StartupProbe
	case probe.Liveness:
		return w.container.LivenessProbe
	}
	return w.container.ReadinessProbe
}

func (w *probeWorker) params(kind probe.Kind) probe.Params { return w.states[kind].Params }

// health returns the probe view of the given pod's running containers,
// nil when none has a worker.
func (p *prober) health(ps *PodState) map[string]ContainerHealth {
	if ps == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.workers) == 0 {
		return nil
	}
	var out map[string]ContainerHealth
	for _, cs := range ps.Containers {
		if len(cs) == 0 {
			continue
		}
		w, ok := p.workers[cs[0].ID]
		if !ok {
			continue
		}
		h := ContainerHealth{Started: true, Ready: true}
		if s := w.states[probe.Startup]; s != nil {
			h.Started = s.Result() == probe.Success
		}
		if s := w.states[probe.Readiness]; s != nil {
			h.Ready = s.Result() == probe.Success
		}
		h.Ready = h.Ready && h.Started
		if out == nil {
			out = map[string]ContainerHealth{}
		}
		out[cs[0].ID] = h
	}
	return out
}

// probeKill is a container a failed probe wants killed.
type probeKill struct {
	pod     *corev1.Pod
	id      string
	grace   time.Duration
	message string
}

// kills returns, once each, the containers whose liveness or startup
// probe failed.
func (p *prober) kills() []probeKill {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []probeKill
	for id, w := range p.workers {
		if w.failed == "" || w.killed {
			continue
		}
		w.killed = true
		grace := podGrace(w.pod)
		for _, pr := range []*corev1.Probe{w.container.LivenessProbe, w.container.StartupProbe} {
			if pr != nil && pr.TerminationGracePeriodSeconds != nil && strings.Contains(w.failed, "liveness") == (pr == w.container.LivenessProbe) {
				grace = time.Duration(*pr.TerminationGracePeriodSeconds) * time.Second
			}
		}
		out = append(out, probeKill{pod: w.pod, id: id, grace: grace, message: w.failed})
	}
	return out
}
