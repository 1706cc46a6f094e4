package statefulset

import (
	"fmt"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// view is a StatefulSet as one sync sees it.
type view struct {
	// start and replicas give the ordinals to run: [start, start+replicas).
	start, replicas int
	// monotonic is OrderedReady: one pod at a time, in order.
	monotonic bool
	// rolling is the RollingUpdate strategy; ordinals >= partition are
	// updated, at most maxUnavailable pods being unavailable.
	rolling        bool
	partition      int
	maxUnavailable int
	// updateRev names the update revision.
	updateRev string
	// minReadySeconds and now decide availability.
	minReadySeconds int32
	now             time.Time
	// pods are the set's pods by ordinal, terminating ones included.
	pods map[int]*corev1.Pod
}

// step is what one sync does.
type step struct {
	// create lists the ordinals whose pod (and claims) to create.
	create []int
	// delete lists the pods to delete.
	delete []*corev1.Pod
	// recreate lists the terminated pods among delete.
	recreate []*corev1.Pod
	// wait says why an OrderedReady set stopped, for the logs.
	wait string
}

func (v *view) available(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil &&
		kit.IsPodAvailable(p, v.minReadySeconds, v.now)
}

// decide computes one sync's step: create the missing ordinals and
// replace terminated pods (OrderedReady: the first one only, and only
// once every lower ordinal is running and available), delete the pods
// above the wanted range (OrderedReady: highest first, one at a time),
// then roll outdated pods from the highest ordinal down to the partition.
func decide(v view) step {
	var s step
	end := v.start + v.replicas
	for o := v.start; o < end; o++ {
		pod := v.pods[o]
		switch {
		case pod == nil:
			s.create = append(s.create, o)
			s.wait = fmt.Sprintf("pod with ordinal %d is being created", o)
		case pod.DeletionTimestamp != nil:
			s.wait = fmt.Sprintf("pod %s is terminating", pod.Name)
		case kit.IsPodTerminal(pod):
			s.delete = append(s.delete, pod)
			s.recreate = append(s.recreate, pod)
			s.wait = fmt.Sprintf("pod %s terminated and is being recreated", pod.Name)
		case !v.available(pod):
			s.wait = fmt.Sprintf("pod %s is not running and available", pod.Name)
		default:
			continue
		}
		if v.monotonic {
			return s
		}
	}
	for _, pod := range condemned(v) {
		if pod.DeletionTimestamp == nil {
			s.delete = append(s.delete, pod)
		}
		if v.monotonic {
			s.wait = fmt.Sprintf("scaling down: pod %s is terminating", pod.Name)
			return s
		}
	}
	s.wait = ""
	if v.rolling {
		rollOut(&s, v)
	}
	return s
}

// condemned are the pods outside the wanted range, highest ordinal first.
func condemned(v view) []*corev1.Pod {
	var ords []int
	for o := range v.pods {
		if o < v.start || o >= v.start+v.replicas {
			ords = append(ords, o)
		}
	}
	slices.Sort(ords)
	slices.Reverse(ords)
	out := make([]*corev1.Pod, len(ords))
	for i, o := range ords {
		out[i] = v.pods[o]
	}
	return out
}

// rollOut deletes outdated pods from the highest ordinal down to the
// partition, keeping at most maxUnavailable pods of the wanted range
// unavailable; outdated pods already unavailable go at no cost.
func rollOut(s *step, v view) {
	end := v.start + v.replicas
	unavailable := 0
	for o := v.start; o < end; o++ {
		if p := v.pods[o]; p == nil || !v.available(p) {
			unavailable++
		}
	}
	for o := end - 1; o >= max(v.partition, v.start); o-- {
		pod := v.pods[o]
		if pod == nil || pod.DeletionTimestamp != nil || kit.IsPodTerminal(pod) || revision(pod) == v.updateRev {
			continue
		}
		if v.available(pod) {
			if unavailable >= max(v.maxUnavailable, 1) {
				return
			}
			unavailable++
		}
		s.delete = append(s.delete, pod)
	}
}

// revision is the name of the revision a pod was made from.
func revision(p *corev1.Pod) string { return p.Labels[appsv1.StatefulSetRevisionLabel] }

// counts fills the status counts over the pods that are not terminating.
func counts(v view, currentRev string) appsv1.StatefulSetStatus {
	var s appsv1.StatefulSetStatus
	for _, p := range v.pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		s.Replicas++
		if p.Status.Phase == corev1.PodRunning && kit.IsPodReady(p) {
			s.ReadyReplicas++
			if kit.IsPodAvailable(p, v.minReadySeconds, v.now) {
				s.AvailableReplicas++
			}
		}
		switch revision(p) {
		case currentRev:
			s.CurrentReplicas++
			if currentRev == v.updateRev {
				s.UpdatedReplicas++
			}
		case v.updateRev:
			s.UpdatedReplicas++
		}
	}
	return s
}
