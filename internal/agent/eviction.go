package agent

import (
	"context"
	"log/slog"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Eviction reasons, as upstream names them.
const (
	ReasonEvicted              = "Evicted"
	ReasonTerminationByKubelet = "TerminationByKubelet"
	EventEvicted               = "Evicted"
)

// evictionCleanupTimeout is how long the next eviction waits for the
// last evicted pod to stop.
const evictionCleanupTimeout = 30 * time.Second

// pressureState is what the agent knows of the node's pressure. It is
// owned by the Run goroutine.
type pressureState struct {
	// lastSeen is when each pressure condition's signal last crossed
	// its threshold; conds are the conditions that hold.
	lastSeen map[corev1.NodeConditionType]time.Time
	conds    map[corev1.NodeConditionType]bool
	// nextCheck is when the node is next measured.
	nextCheck time.Time
	// evicted are the pods evicted, with their message, until the API
	// has forgotten them.
	evicted map[types.UID]string
	// last is the pod evicted last and when: the next eviction waits
	// until it has stopped (or evictionCleanupTimeout has passed).
	last   types.UID
	lastAt time.Time
}

// checkPressure collects garbage when due, then measures the node when
// due, updates the pressure conditions and, while a threshold is
// crossed, evicts one pod once the previous eviction is over (disk is
// reclaimed first). It returns when it next wants to run.
func (a *Agent) checkPressure(ctx context.Context, desired []*corev1.Pod, observed RuntimeState, now time.Time, apiKnown bool, log *slog.Logger) time.Time {
	gcNext := a.collectGarbage(ctx, desired, observed, now, apiKnown && a.staticReady, log)
	if a.cfg.Stats == nil {
		return time.Time{} // hollow nodes: GC runs when a sync does
	}
	return earliest(gcNext, a.checkEviction(ctx, desired, observed, now, apiKnown, log))
}

// checkEviction measures the node when due, updates the pressure
// conditions and, while a threshold is crossed, evicts one pod once the
// previous eviction is over. Under disk pressure, dead containers and
// unused images are removed first and the node measured again: no pod
// is evicted if that was enough. It returns when it next wants to run.
func (a *Agent) checkEviction(ctx context.Context, desired []*corev1.Pod, observed RuntimeState, now time.Time, apiKnown bool, log *slog.Logger) time.Time {
	ps := &a.pressure
	if now.Before(ps.nextCheck) {
		return ps.nextCheck
	}
	ps.nextCheck = now.Add(a.cfg.EvictionMonitoringInterval)
	stats, err := a.cfg.Stats.NodeStats(ctx)
	if err != nil {
		warn(ctx, log, "measuring the node", "err", err)
		return ps.nextCheck
	}
	crossed := breaches(a.cfg.EvictionHard, stats)
	for _, b := range crossed {
		ps.lastSeen[conditionOf(b.Signal)] = now
	}
	conds := pressureConditions(ps.lastSeen, now, a.cfg.EvictionPressureTransitionPeriod)
	if !maps.Equal(conds, ps.conds) {
		ps.conds = conds
		a.nextLease = now // report the node's conditions now
	}
	if len(crossed) == 0 || !apiKnown || !a.evictionOver(observed, now) {
		return ps.nextCheck
	}
	if conditionOf(crossed[0].Signal) == corev1.NodeDiskPressure && a.staticReady && a.reclaim(ctx, desired, observed, now, log) {
		if stats, err = a.cfg.Stats.NodeStats(ctx); err != nil {
			warn(ctx, log, "measuring the node after reclaim", "err", err)
			return ps.nextCheck
		}
		if crossed = breaches(a.cfg.EvictionHard, stats); len(crossed) == 0 {
			log.Info("reclaiming disk relieved the pressure; no pod evicted")
			return ps.nextCheck
		}
	}
	b := crossed[0]
	var candidates []*corev1.Pod
	for _, p := range desired {
		if _, done := ps.evicted[p.UID]; !done && evictable(p) {
			candidates = append(candidates, p)
		}
	}
	ranked := rankForEviction(candidates, resourceOf(b.Signal), stats.Pods)
	if len(ranked) == 0 {
		warn(ctx, log, "node under pressure, no pod to evict", "signal", b.Signal)
		return ps.nextCheck
	}
	victim := ranked[0]
	a.evict(ctx, victim, evictionMessage(b, victim, stats.Pods[victim.UID]), observed, now, log)
	return ps.nextCheck
}

// evictionOver says whether the last evicted pod has stopped.
func (a *Agent) evictionOver(observed RuntimeState, now time.Time) bool {
	ps := &a.pressure
	if ps.last == "" || now.Sub(ps.lastAt) >= evictionCleanupTimeout {
		return true
	}
	st := observed.Pod(ps.last)
	if st == nil {
		return true
	}
	for _, cs := range st.Containers {
		for _, c := range cs {
			if running(c) {
				return false
			}
		}
	}
	return true
}

// evict fails a pod with reason Evicted; Plan then kills its containers
// at once (a failed pod is finished).
func (a *Agent) evict(ctx context.Context, pod *corev1.Pod, msg string, observed RuntimeState, now time.Time, log *slog.Logger) {
	ps := &a.pressure
	ps.evicted[pod.UID] = msg
	ps.last, ps.lastAt = pod.UID, now
	a.signal() // plan the kills
	log.Info("evicting pod", "pod", podKey(pod), "message", msg)
	a.events.event(pod, "", corev1.EventTypeWarning, EventEvicted, "%s", msg)
	failed := withEviction(pod, msg, now)
	st := PodStatus(failed, observed.Pod(pod.UID), a.startErrs[pod.UID], nil, now, a.opts)
	if err := a.patchPodStatus(ctx, pod, &st); err != nil {
		warn(ctx, log, "writing evicted pod status", "pod", podKey(pod), "err", err)
		return
	}
	a.podStatus[pod.UID] = &st
}

// withEviction returns a copy of pod whose status says it was evicted.
func withEviction(pod *corev1.Pod, msg string, now time.Time) *corev1.Pod {
	p := *pod
	p.Status = *pod.Status.DeepCopy()
	p.Status.Phase = corev1.PodFailed
	p.Status.Reason = ReasonEvicted
	p.Status.Message = msg
	setCondition(&p.Status, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: ReasonTerminationByKubelet, Message: msg}, now)
	return &p
}

// overrideEvicted shows evicted pods as failed until the informer does.
func (a *Agent) overrideEvicted(p *corev1.Pod, now time.Time) *corev1.Pod {
	msg, ok := a.pressure.evicted[p.UID]
	if !ok || p.Status.Phase == corev1.PodFailed {
		return p
	}
	return withEviction(p, msg, now)
}

// pressureCondition is a pressure condition's status, reason and
// message.
func (a *Agent) pressureCondition(t corev1.NodeConditionType) (corev1.ConditionStatus, string, string) {
	on := a.pressure.conds[t]
	switch {
	case t == corev1.NodeMemoryPressure && on:
		return corev1.ConditionTrue, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available"
	case t == corev1.NodeMemoryPressure:
		return corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"
	case t == corev1.NodeDiskPressure && on:
		return corev1.ConditionTrue, "KubeletHasDiskPressure", "kubelet has disk pressure"
	case t == corev1.NodeDiskPressure:
		return corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"
	case on:
		return corev1.ConditionTrue, "KubeletHasInsufficientPID", "kubelet has insufficient PID available"
	}
	return corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"
}
