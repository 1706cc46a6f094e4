package placement

import (
	corev1 "k8s.io/api/core/v1"
)

// cycle is the state of scheduling one pod: what the filters and scorers
// precompute once per pod (upstream's PreFilter and PreScore results).
type cycle struct {
	pod            *corev1.Pod
	pi             *podInfo
	snap           *Snapshot
	cfg            *Config
	scalarNames    []corev1.ResourceName  // extended resources requested, sorted
	nodeAffinity   nodeMatcher            // nodeSelector + required node affinity
	volumeAffinity []*corev1.NodeSelector // bound PVs' required node affinity
	interPod       *interPodState         // nil when nothing to check
	spread         *spreadState           // nil without DoNotSchedule constraints
	filters        []filter
}

// newCycle prepares the per-pod state; a non-empty message rejects the pod
// before any node is looked at.
func newCycle(pod *corev1.Pod, snap *Snapshot, cfg *Config) (*cycle, string) {
	c := &cycle{pod: pod, pi: newPodInfo(pod), snap: snap, cfg: cfg, filters: newFilters()}
	c.scalarNames = sortedScalars(c.pi.req)
	c.nodeAffinity = newNodeMatcher(pod)
	var msg string
	if c.volumeAffinity, msg = volumeAffinities(pod, snap); msg != "" {
		return nil, msg
	}
	c.interPod = newInterPodState(c)
	c.spread = newSpreadState(c)
	return c, ""
}
