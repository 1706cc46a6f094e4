package agent

import (
	"context"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// staticPodState is one static pod as the agent runs it.
type staticPodState struct {
	// pod carries the status last computed. It is replaced, never
	// changed in place: actions and probes may hold the old one.
	pod *corev1.Pod
}

// updateStatic merges the manifests' pods into a.static: new pods are
// added, and pods gone from their manifest get a deletion timestamp so
// Plan stops them as it stops a pod being deleted (their DeletePod
// action then forgets them).
func (a *Agent) updateStatic(now time.Time) {
	if a.staticSrc == nil {
		return
	}
	pods, ready := a.staticSrc.snapshot()
	a.staticReady = ready
	current := make(map[types.UID]bool, len(pods))
	for _, p := range pods {
		current[p.UID] = true
		if _, ok := a.static[p.UID]; !ok {
			a.static[p.UID] = &staticPodState{pod: p}
		}
	}
	if !ready {
		return
	}
	for uid, s := range a.static {
		if current[uid] || s.pod.DeletionTimestamp != nil {
			continue
		}
		p := *s.pod
		p.ObjectMeta = *s.pod.ObjectMeta.DeepCopy()
		ts := metav1.NewTime(now)
		p.DeletionTimestamp = &ts
		p.DeletionGracePeriodSeconds = p.Spec.TerminationGracePeriodSeconds
		s.pod = &p
	}
}

// desiredStatic lists the static pods to run. A pod whose namespace and
// name a removed pod still has waits until that one has stopped (a
// changed manifest replaces its pod).
func (a *Agent) desiredStatic() []*corev1.Pod {
	if len(a.static) == 0 {
		return nil
	}
	stopping := map[string]bool{}
	for _, s := range a.static {
		if s.pod.DeletionTimestamp != nil {
			stopping[podKey(s.pod)] = true
		}
	}
	out := make([]*corev1.Pod, 0, len(a.static))
	for _, s := range a.static {
		if s.pod.DeletionTimestamp == nil && stopping[podKey(s.pod)] {
			continue
		}
		out = append(out, s.pod)
	}
	return out
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// setStaticStatus keeps the status computed for a static pod.
func (a *Agent) setStaticStatus(uid types.UID, st *corev1.PodStatus) {
	s := a.static[uid]
	if s == nil {
		return
	}
	p := *s.pod
	p.Status = *st
	s.pod = &p
}

// forgetStatic drops a removed static pod once it has stopped.
func (a *Agent) forgetStatic(uid types.UID) { delete(a.static, uid) }

// mirrorOf is the current mirror pod of static pod p, or nil.
func mirrorOf(mirrors map[string]*corev1.Pod, p *corev1.Pod) *corev1.Pod {
	m := mirrors[podKey(p)]
	if m == nil || m.DeletionTimestamp != nil || m.Annotations[AnnotationConfigMirror] != p.Annotations[AnnotationConfigHash] {
		return nil
	}
	return m
}

// syncMirrors keeps one mirror pod per static pod: it creates missing
// ones, replaces those of another version or being deleted, and deletes
// those whose static pod is gone (once every manifest source was read).
func (a *Agent) syncMirrors(ctx context.Context, mirrors map[string]*corev1.Pod, log *slog.Logger) {
	if len(a.static) == 0 && (len(mirrors) == 0 || !a.staticReady) {
		return
	}
	want := map[string]*corev1.Pod{}
	for _, s := range a.static {
		if s.pod.DeletionTimestamp == nil {
			want[podKey(s.pod)] = s.pod
		}
	}
	for key, m := range mirrors {
		p := want[key]
		if p != nil && mirrorOf(mirrors, p) != nil {
			continue
		}
		if p == nil && !a.staticReady {
			continue
		}
		if err := a.deleteMirror(ctx, m); err != nil {
			warn(ctx, log, "deleting mirror pod", "pod", key, "err", err)
		}
	}
	for key, p := range want {
		if mirrorOf(mirrors, p) != nil || a.node == nil {
			continue
		}
		_, err := a.cfg.Client.CoreV1().Pods(p.Namespace).Create(ctx, mirrorPod(p, a.cfg.NodeName, a.node.UID), metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			warn(ctx, log, "creating mirror pod", "pod", key, "err", err)
		}
	}
}

// deleteMirror deletes a mirror pod at once (its containers are the
// static pod's, which keeps running).
func (a *Agent) deleteMirror(ctx context.Context, m *corev1.Pod) error {
	zero := int64(0)
	uid := m.UID
	err := a.cfg.Client.CoreV1().Pods(m.Namespace).Delete(ctx, m.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// visibleState drops from observed what Plan must not yet treat as
// orphans: pods of the API while the API's pods are unknown, and static
// pods while the manifests are unread. Desired pods are always kept.
func visibleState(observed RuntimeState, desired []*corev1.Pod, apiKnown, staticKnown bool) RuntimeState {
	if apiKnown && staticKnown {
		return observed
	}
	want := make(map[types.UID]bool, len(desired))
	for _, p := range desired {
		want[p.UID] = true
	}
	out := RuntimeState{Pods: make(map[types.UID]*PodState, len(observed.Pods))}
	for uid, ps := range observed.Pods {
		static := staticState(ps)
		if want[uid] || (static && staticKnown) || (!static && apiKnown) {
			out.Pods[uid] = ps
		}
	}
	return out
}

// staticState says whether a pod's sandboxes belong to a static pod.
func staticState(ps *PodState) bool {
	for _, sb := range ps.Sandboxes {
		if s := sb.Annotations[AnnotationConfigSource]; s == SourceFile || s == SourceHTTP {
			return true
		}
	}
	return false
}
