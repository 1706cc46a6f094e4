package daemonset

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// nodeState is one node as the plan sees it.
type nodeState struct {
	// name is the node's name.
	name string
	// place says whether the node should run or may keep a daemon pod.
	place placement
	// pods are the DaemonSet's pods targeting the node that are not being
	// deleted, oldest first.
	pods []*corev1.Pod
}

// rollout is what the plan needs to know of the DaemonSet.
type rollout struct {
	// hash is the update revision's hash; pods with it are up to date.
	hash string
	// rolling is true for the RollingUpdate strategy.
	rolling bool
	// maxUnavailable and maxSurge are resolved against the desired count.
	maxUnavailable, maxSurge int
	// minReadySeconds and now decide availability.
	minReadySeconds int32
	now             time.Time
}

// plan is what one sync does.
type plan struct {
	// create lists the nodes that get a new pod.
	create []string
	// delete lists the pods to remove.
	delete []*corev1.Pod
	// failed lists the failed pods among delete.
	failed []*corev1.Pod
}

func (p *plan) empty() bool { return len(p.create) == 0 && len(p.delete) == 0 }

// makePlan decides the creations and deletions for one sync: first the
// pods missing, failed, duplicated or misplaced; then, on nodes already
// in order, the rolling update.
func makePlan(nodes []nodeState, r rollout) plan {
	var p plan
	settled := make([]bool, len(nodes))
	for i, n := range nodes {
		before := len(p.create) + len(p.delete)
		manageNode(&p, n, r)
		settled[i] = len(p.create)+len(p.delete) == before
	}
	if !r.rolling {
		return p
	}
	var stable []nodeState
	for i, n := range nodes {
		if settled[i] && n.place.keep {
			stable = append(stable, n)
		}
	}
	unavailable := 0
	for i, n := range nodes {
		if n.place.run && (!settled[i] || !anyAvailable(n.pods, r)) {
			unavailable++
		}
	}
	if r.maxSurge > 0 {
		surgeUpdate(&p, stable, r)
	} else {
		replaceUpdate(&p, stable, r, unavailable)
	}
	return p
}

// manageNode removes failed pods, removes pods from nodes that may not
// keep them, creates a pod where one should run and none lives, and
// removes duplicates (keeping the oldest, or while surging the oldest
// old and the oldest updated pod).
func manageNode(p *plan, n nodeState, r rollout) {
	var live []*corev1.Pod
	failed := false
	for _, pod := range n.pods {
		if kit.IsPodTerminal(pod) {
			p.delete = append(p.delete, pod)
			p.failed = append(p.failed, pod)
			failed = true
			continue
		}
		live = append(live, pod)
	}
	switch {
	case !n.place.keep:
		p.delete = append(p.delete, live...)
	case len(live) == 0 && failed:
		// A failed pod is removed first; its replacement comes next sync.
	case len(live) == 0 && n.place.run:
		p.create = append(p.create, n.name)
	case len(live) > 1:
		keptOld, keptNew := false, false
		for _, pod := range live {
			updated := pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == r.hash
			switch {
			case r.rolling && r.maxSurge > 0 && updated && !keptNew:
				keptNew = true
			case r.rolling && r.maxSurge > 0 && !updated && !keptOld:
				keptOld = true
			case !(r.rolling && r.maxSurge > 0) && !keptOld:
				keptOld = true
			default:
				p.delete = append(p.delete, pod)
			}
		}
	}
}

// replaceUpdate deletes old pods so that at most maxUnavailable nodes are
// without an available pod; old pods that are not available go first and
// cost nothing.
func replaceUpdate(p *plan, nodes []nodeState, r rollout, unavailable int) {
	var oldAvailable []*corev1.Pod
	for _, n := range nodes {
		if len(n.pods) != 1 || isUpdated(n.pods[0], r) {
			continue
		}
		if kit.IsPodAvailable(n.pods[0], r.minReadySeconds, r.now) {
			oldAvailable = append(oldAvailable, n.pods[0])
		} else {
			p.delete = append(p.delete, n.pods[0])
		}
	}
	for _, pod := range oldAvailable {
		if unavailable >= r.maxUnavailable {
			return
		}
		p.delete = append(p.delete, pod)
		unavailable++
	}
}

// surgeUpdate starts an updated pod next to an old one on up to maxSurge
// nodes at a time (at once where the old pod is not available), and
// removes the old pod once the updated one is available.
func surgeUpdate(p *plan, nodes []nodeState, r rollout) {
	surging := 0
	var waiting []nodeState
	for _, n := range nodes {
		var oldPod, newPod *corev1.Pod
		for _, pod := range n.pods {
			if isUpdated(pod, r) {
				newPod = pod
			} else {
				oldPod = pod
			}
		}
		switch {
		case oldPod == nil:
		case newPod != nil && kit.IsPodAvailable(newPod, r.minReadySeconds, r.now):
			p.delete = append(p.delete, oldPod)
		case newPod != nil:
			surging++
		case !kit.IsPodAvailable(oldPod, r.minReadySeconds, r.now) && n.place.run:
			p.create = append(p.create, n.name)
		case n.place.run:
			waiting = append(waiting, n)
		}
	}
	for _, n := range waiting {
		if surging >= r.maxSurge {
			return
		}
		p.create = append(p.create, n.name)
		surging++
	}
}

func isUpdated(pod *corev1.Pod, r rollout) bool {
	return pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == r.hash
}

func anyAvailable(pods []*corev1.Pod, r rollout) bool {
	for _, p := range pods {
		if !kit.IsPodTerminal(p) && kit.IsPodAvailable(p, r.minReadySeconds, r.now) {
			return true
		}
	}
	return false
}

// counts fills the status counts from the nodes: each node that should
// run a pod is judged by its oldest live pod, as upstream does (so during
// a surge a node counts as updated only once its old pod is gone).
func counts(nodes []nodeState, r rollout) appsv1.DaemonSetStatus {
	var s appsv1.DaemonSetStatus
	for _, n := range nodes {
		var pod *corev1.Pod
		for _, p := range n.pods {
			if !kit.IsPodTerminal(p) {
				pod = p
				break
			}
		}
		if !n.place.run {
			if pod != nil {
				s.NumberMisscheduled++
			}
			continue
		}
		s.DesiredNumberScheduled++
		if pod == nil {
			continue
		}
		s.CurrentNumberScheduled++
		if kit.IsPodReady(pod) {
			s.NumberReady++
			if kit.IsPodAvailable(pod, r.minReadySeconds, r.now) {
				s.NumberAvailable++
			}
		}
		if isUpdated(pod, r) {
			s.UpdatedNumberScheduled++
		}
	}
	s.NumberUnavailable = max(s.DesiredNumberScheduled-s.NumberAvailable, 0)
	return s
}
