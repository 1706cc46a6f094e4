package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// maxPlanRounds bounds how often one sync re-plans after acting (sandbox,
// then containers, then cleanup).
const maxPlanRounds = 4

// newPodInformer watches the pods bound to the node and calls changed on
// every event. It is a plain informer (no shared processor goroutines):
// hollow nodes run thousands of them.
func newPodInformer(client kubernetes.Interface, node string, changed func()) (cache.Store, cache.Controller) {
	sel := fields.OneTermEqualSelector("spec.nodeName", node).String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = sel
			return client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.FieldSelector = sel
			return client.CoreV1().Pods(metav1.NamespaceAll).Watch(ctx, o)
		},
	}
	h := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { changed() },
		UpdateFunc: func(any, any) { changed() },
		DeleteFunc: func(any) { changed() },
	}
	return cache.NewInformerWithOptions(cache.InformerOptions{ListerWatcher: lw, ObjectType: &corev1.Pod{}, Handler: h})
}

// desiredPods lists the pods to run, in a stable order: the static pods
// and, when apiKnown, the pods bound to the node. The mirror pods bound
// to the node are returned apart, by namespace/name.
func (a *Agent) desiredPods(apiKnown bool) ([]*corev1.Pod, map[string]*corev1.Pod) {
	var (
		pods    []*corev1.Pod
		mirrors map[string]*corev1.Pod
	)
	if apiKnown {
		objs := a.store.List()
		pods = make([]*corev1.Pod, 0, len(objs)+len(a.static))
		for _, o := range objs {
			p, ok := o.(*corev1.Pod)
			switch {
			case !ok:
			case isMirror(p):
				if mirrors == nil {
					mirrors = map[string]*corev1.Pod{}
				}
				mirrors[podKey(p)] = p
			default:
				pods = append(pods, a.overrideEvicted(p, a.cfg.Clock.Now()))
			}
		}
	}
	pods = append(pods, a.desiredStatic()...)
	sort.Slice(pods, func(i, j int) bool { return pods[i].UID < pods[j].UID })
	return pods, mirrors
}

// syncPods plans and acts until the plan is empty (or a few rounds have
// passed), writes the pod statuses that changed and returns when it next
// wants to run.
func (a *Agent) syncPods(ctx context.Context, apiKnown bool, log *slog.Logger) time.Time {
	var (
		desired  []*corev1.Pod
		mirrors  map[string]*corev1.Pod
		observed RuntimeState
		wake     time.Time
		err      error
	)
	now := a.cfg.Clock.Now()
	clear(a.failedStarts)
	for round := 0; round < maxPlanRounds; round++ {
		desired, mirrors = a.desiredPods(apiKnown)
		observed, err = Observe(ctx, a.cfg.Runtime)
		if err != nil {
			warn(ctx, log, "observing runtime", "err", err)
			return now.Add(a.cfg.SyncPeriod)
		}
		observed = visibleState(observed, desired, apiKnown, a.staticReady)
		now = a.cfg.Clock.Now()
		var actions []Action
		actions, wake = Plan(desired, observed, now, a.opts)
		actions = a.withoutFailedStarts(actions)
		if len(actions) == 0 {
			break
		}
		a.execute(ctx, actions, observed, log)
		if round == maxPlanRounds-1 {
			observed, err = Observe(ctx, a.cfg.Runtime)
			if err != nil {
				return now.Add(a.cfg.SyncPeriod)
			}
			observed = visibleState(observed, desired, apiKnown, a.staticReady)
			wake = now
		}
	}
	wake = earliest(wake, a.checkPressure(ctx, desired, observed, now, apiKnown, log))
	complete := apiKnown && a.staticReady
	a.probes.sync(desired, observed, !complete)
	for _, k := range a.probes.kills() {
		a.stopContainer(k.pod, k.pod.UID, k.id, observed, k.grace, k.message)
	}
	wake = earliest(wake, a.refreshVolumes(ctx, desired, now))
	if apiKnown {
		a.syncMirrors(ctx, mirrors, log)
	}
	a.writeStatuses(ctx, desired, observed, mirrors, now, log)
	if complete {
		a.forgetGone(desired, mirrors)
		a.forgetTerminations(observed)
		a.cleanupPods(desired, observed, log)
	}
	return earliest(wake, a.nextRelist(now, observed))
}

// withoutFailedStarts drops the sandbox and container starts that failed
// earlier in this sync: they are retried by the next one (a sync that
// retried them at once would never end).
func (a *Agent) withoutFailedStarts(actions []Action) []Action {
	if len(a.failedStarts) == 0 {
		return actions
	}
	out := actions[:0:0]
	for _, act := range actions {
		if (act.Kind != StartContainer && act.Kind != RunSandbox) || !a.failedStarts[string(act.UID)+"/"+act.Container] {
			out = append(out, act)
		}
	}
	return out
}

// nextRelist is when the runtime should be read again with no event.
func (a *Agent) nextRelist(now time.Time, observed RuntimeState) time.Time {
	if len(a.startErrs) > 0 {
		return now.Add(a.cfg.SyncPeriod) // retry failed starts
	}
	if n, ok := a.cfg.Runtime.(interface{ NextChange() time.Time }); ok {
		return n.NextChange()
	}
	if len(observed.Pods) == 0 {
		return time.Time{}
	}
	return now.Add(a.cfg.SyncPeriod)
}

// writeStatuses patches the status of every pod whose status changed. A
// static pod's status is kept by the agent and written to its mirror
// pod, if there is one (mirrors is nil while the API is unknown).
func (a *Agent) writeStatuses(ctx context.Context, desired []*corev1.Pod, observed RuntimeState, mirrors map[string]*corev1.Pod, now time.Time, log *slog.Logger) {
	for _, pod := range desired {
		if a.deleting[pod.UID] {
			continue
		}
		ps := observed.Pod(pod.UID)
		a.addTerminationMessages(pod, ps)
		st := PodStatus(pod, ps, a.startErrs[pod.UID], a.probes.health(ps), now, a.opts)
		target := pod
		if isStatic(pod) {
			if !apiequality.Semantic.DeepEqual(&st, &pod.Status) {
				a.statusEvents(pod, &st)
			}
			a.setStaticStatus(pod.UID, &st)
			if target = mirrorOf(mirrors, pod); target == nil {
				continue
			}
		} else if !apiequality.Semantic.DeepEqual(&st, &pod.Status) {
			if last := a.podStatus[pod.UID]; last == nil || !apiequality.Semantic.DeepEqual(&st, last) {
				a.statusEvents(pod, &st)
			}
		}
		if apiequality.Semantic.DeepEqual(&st, &target.Status) {
			a.podStatus[target.UID] = &st
			continue
		}
		if last := a.podStatus[target.UID]; last != nil && apiequality.Semantic.DeepEqual(&st, last) {
			continue
		}
		if err := a.patchPodStatus(ctx, target, &st); err != nil {
			warn(ctx, log, "writing pod status", "pod", target.Namespace+"/"+target.Name, "err", err)
			continue
		}
		a.podStatus[target.UID] = &st
	}
}

// forgetGone drops what is kept of pods that are neither desired nor
// mirrors of desired pods.
func (a *Agent) forgetGone(desired []*corev1.Pod, mirrors map[string]*corev1.Pod) {
	seen := make(map[types.UID]bool, len(desired))
	for _, p := range desired {
		seen[p.UID] = true
	}
	for _, m := range mirrors {
		seen[m.UID] = true
	}
	for uid := range a.podStatus {
		if !seen[uid] {
			delete(a.podStatus, uid)
		}
	}
	for uid := range a.deleting {
		if !seen[uid] {
			delete(a.deleting, uid)
		}
	}
	for uid := range a.startErrs {
		if !seen[uid] {
			delete(a.startErrs, uid)
		}
	}
	a.events.forget(seen)
	a.pulls.forget(seen)
	for uid := range a.pressure.evicted {
		if !seen[uid] {
			delete(a.pressure.evicted, uid)
		}
	}
}

// patchPodStatus writes a pod's status with a JSON merge patch: lists
// (conditions, container statuses) are replaced whole.
func (a *Agent) patchPodStatus(ctx context.Context, pod *corev1.Pod, st *corev1.PodStatus) error {
	body, err := json.Marshal(map[string]any{"status": st})
	if err != nil {
		return fmt.Errorf("encoding status: %w", err)
	}
	_, err = a.cfg.Client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, body, metav1.PatchOptions{}, "status")
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
