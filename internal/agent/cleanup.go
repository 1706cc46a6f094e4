package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// volumeResync is how often API-backed volumes of running pods are
// rewritten from their ConfigMaps, Secrets and tokens.
const volumeResync = time.Minute

// refreshVolumes rewrites the volumes of pods set up more than
// volumeResync ago and returns when the next refresh is due.
func (a *Agent) refreshVolumes(ctx context.Context, desired []*corev1.Pod, now time.Time) time.Time {
	if len(a.volumes) == 0 {
		return time.Time{}
	}
	var next time.Time
	for _, pod := range desired {
		at, ok := a.volumesAt[pod.UID]
		if !ok || pod.DeletionTimestamp != nil || terminalPhase(pod.Status.Phase) {
			continue
		}
		if due := at.Add(volumeResync); now.Before(due) {
			next = earliest(next, due)
			continue
		}
		if _, err := a.ensureVolumes(ctx, pod, true); err != nil {
			a.volumesAt[pod.UID] = now // keep the old content; try again later
		}
		next = earliest(next, now.Add(volumeResync))
	}
	return next
}

// cleanupPods removes the directories (volumes, logs) of pods that are
// neither bound to the node nor in the runtime any more. The first call
// also finds directories left by an earlier run.
func (a *Agent) cleanupPods(desired []*corev1.Pod, observed RuntimeState, log *slog.Logger) {
	if !a.scanned {
		a.scanned = true
		a.scanLeftovers(log)
	}
	if len(a.volumes) == 0 && len(a.leftovers) == 0 && len(a.podDirs) == 0 {
		return
	}
	want := make(map[types.UID]bool, len(desired))
	for _, p := range desired {
		want[p.UID] = true
	}
	known := map[types.UID]bool{}
	for _, m := range []map[types.UID]bool{a.leftovers, a.podDirs} {
		for uid := range m {
			known[uid] = true
		}
	}
	for uid := range a.volumes {
		known[uid] = true
	}
	var gone []types.UID
	for uid := range known {
		if !want[uid] && observed.Pod(uid) == nil {
			gone = append(gone, uid)
		}
	}
	if len(gone) == 0 {
		return
	}
	logDirs, _ := os.ReadDir(filepath.Join(a.cfg.DataDir, "logs"))
	for _, uid := range gone {
		if err := a.volumeManager().Cleanup(uid); err != nil {
			warn(context.Background(), log, "removing pod directory", "uid", uid, "err", err)
			continue
		}
		for _, e := range logDirs {
			if strings.HasSuffix(e.Name(), "_"+string(uid)) {
				_ = os.RemoveAll(filepath.Join(a.cfg.DataDir, "logs", e.Name()))
			}
		}
		delete(a.volumes, uid)
		delete(a.volumesAt, uid)
		delete(a.leftovers, uid)
		delete(a.podDirs, uid)
	}
}

// scanLeftovers notes the pod directories and log directories already on
// disk, so those of pods that are gone get removed.
func (a *Agent) scanLeftovers(log *slog.Logger) {
	uids, err := a.volumeManager().Pods()
	if err != nil {
		log.Debug("scanning pod directories", "err", err)
	}
	entries, _ := os.ReadDir(filepath.Join(a.cfg.DataDir, "logs"))
	for _, e := range entries {
		if i := strings.LastIndexByte(e.Name(), '_'); i >= 0 && e.IsDir() {
			uids = append(uids, types.UID(e.Name()[i+1:]))
		}
	}
	for _, uid := range uids {
		if a.leftovers == nil {
			a.leftovers = map[types.UID]bool{}
		}
		a.leftovers[uid] = true
	}
}

// statusEvents reports the changes of a status that are events: a
// container entering crash-loop back-off.
func (a *Agent) statusEvents(pod *corev1.Pod, st *corev1.PodStatus) {
	if a.events == nil {
		return
	}
	was := map[string]bool{}
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, c := range list {
			was[c.Name] = c.State.Waiting != nil && c.State.Waiting.Reason == ReasonCrashLoopBackOff && c.RestartCount == restartsOf(st, c.Name)
		}
	}
	for _, list := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		for _, c := range list {
			if w := c.State.Waiting; w != nil && w.Reason == ReasonCrashLoopBackOff && !was[c.Name] {
				a.events.event(pod, c.Name, corev1.EventTypeWarning, EventBackOff, "Back-off restarting failed container %s in pod %s", c.Name, podDesc(pod))
			}
		}
	}
}

func restartsOf(st *corev1.PodStatus, name string) int32 {
	for _, list := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		for _, c := range list {
			if c.Name == name {
				return c.RestartCount
			}
		}
	}
	return -1
}

func podDesc(pod *corev1.Pod) string {
	return pod.Name + "_" + pod.Namespace + "(" + string(pod.UID) + ")"
}
