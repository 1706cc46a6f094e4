package scheduler

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"

	"github.com/skiffkube/skiff/internal/scheduler/placement"
)

// Priorities of the built-in classes, used when their PriorityClass objects
// are missing.
const (
	systemClusterCritical = 2000000000
	systemNodeCritical    = 2000001000
)

// state is the scheduler's view of the cluster: the placement snapshot,
// plus bound pods whose node is not known yet (the node's informer event may
// come after the pod's).
type state struct {
	mu   sync.RWMutex
	snap *placement.Snapshot
	// waiting holds pods bound to nodes the snapshot does not have, by node
	// then namespace/name.
	waiting map[string]map[string]*corev1.Pod
	// assumed holds pods assumed onto a node whose binding the informer has
	// not reported yet, by namespace/name: stale pending versions of them
	// must not be queued again.
	assumed map[string]bool
}

func newState() *state {
	return &state{snap: placement.NewSnapshot(nil, nil), waiting: map[string]map[string]*corev1.Pod{}, assumed: map[string]bool{}}
}

// setNode adds or updates a node, accounting pods that waited for it.
func (s *state) setNode(n *corev1.Node) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.SetNode(n)
	for _, p := range s.waiting[n.Name] {
		s.snap.AddPod(p)
	}
	delete(s.waiting, n.Name)
}

func (s *state) removeNode(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.RemoveNode(name)
}

// setPod accounts a bound pod (or forgets a terminal one).
func (s *state) setPod(p *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetWaiting(p)
	delete(s.assumed, p.Namespace+"/"+p.Name)
	if p.Spec.NodeName != "" && s.snap.Node(p.Spec.NodeName) == nil && !terminal(p) {
		w := s.waiting[p.Spec.NodeName]
		if w == nil {
			w = map[string]*corev1.Pod{}
			s.waiting[p.Spec.NodeName] = w
		}
		w[p.Namespace+"/"+p.Name] = p
		return
	}
	s.snap.AddPod(p)
}

func (s *state) removePod(p *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forgetWaiting(p)
	delete(s.assumed, p.Namespace+"/"+p.Name)
	s.snap.RemovePod(p)
}

// forgetAssumed undoes assume after a failed bind, unless the informer has
// reported the pod bound meanwhile.
func (s *state) forgetAssumed(p *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := p.Namespace + "/" + p.Name
	if s.assumed[key] {
		delete(s.assumed, key)
		s.snap.RemovePod(p)
	}
}

// isAssumed says whether the pod is assumed and awaiting its binding.
func (s *state) isAssumed(p *corev1.Pod) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.assumed[p.Namespace+"/"+p.Name]
}

func (s *state) forgetWaiting(p *corev1.Pod) {
	for node, w := range s.waiting {
		delete(w, p.Namespace+"/"+p.Name)
		if len(w) == 0 {
			delete(s.waiting, node)
		}
	}
}

// assume accounts pod on node before the binding is seen.
func (s *state) assume(p *corev1.Pod, node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.Assume(p, node)
	s.assumed[p.Namespace+"/"+p.Name] = true
}

// nominate records (node "") or forgets the node a pending pod was
// nominated to by preemption.
func (s *state) nominate(p *corev1.Pod, node string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.Nominate(p, node)
}

// awaitingVictims returns the node pod is nominated to if lower-priority
// pods there are still terminating (its preemption is under way), else "".
func (s *state) awaitingVictims(pod *corev1.Pod) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	node := s.snap.NominatedNode(pod)
	ni := s.snap.Node(node)
	if ni == nil {
		return ""
	}
	prio := placement.PodPriority(pod)
	for _, p := range ni.Pods() {
		if p.DeletionTimestamp != nil && placement.PodPriority(p) < prio {
			return node
		}
	}
	return ""
}

func (s *state) setNamespace(ns *corev1.Namespace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.SetNamespace(ns)
}

func (s *state) setVolume(pv *corev1.PersistentVolume) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.SetVolume(pv)
}

func (s *state) setClaim(c *corev1.PersistentVolumeClaim) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.snap.SetClaim(c)
}

// read runs f with the snapshot locked for reading.
func (s *state) read(f func(*placement.Snapshot)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	f(s.snap)
}

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// resolvePriority returns pod with spec.priority (and preemptionPolicy) set
// from its PriorityClass, or the global default class, when unset. classes
// lists the PriorityClasses; pod is copied before any change.
func resolvePriority(pod *corev1.Pod, classes []*schedulingv1.PriorityClass) *corev1.Pod {
	if pod.Spec.Priority != nil {
		return pod
	}
	var value int32
	var policy *corev1.PreemptionPolicy
	name := pod.Spec.PriorityClassName
	switch name {
	case "system-cluster-critical":
		value = systemClusterCritical
	case "system-node-critical":
		value = systemNodeCritical
	}
	for _, pc := range classes {
		if (name != "" && pc.Name == name) || (name == "" && pc.GlobalDefault) {
			value, policy = pc.Value, pc.PreemptionPolicy
			break
		}
	}
	cp := pod.DeepCopy()
	cp.Spec.Priority = &value
	if cp.Spec.PreemptionPolicy == nil && policy != nil {
		p := *policy
		cp.Spec.PreemptionPolicy = &p
	}
	return cp
}
