package placement

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Snapshot is the cluster state one scheduling decision looks at. The caller
// builds it from informers and keeps it current with the Add/Remove/Set
// methods and Assume. Schedule and Preempt only read it, so they may run
// concurrently with each other, but not with a method that changes it.
type Snapshot struct {
	// Nodes in a stable order (the order given to NewSnapshot, new nodes last).
	Nodes []*NodeInfo
	// Namespaces holds namespace labels, for namespaceSelector in pod affinity.
	Namespaces map[string]labels.Set

	byName  map[string]*NodeInfo
	podNode map[string]string // "ns/name" → node of every accounted pod
	pvs     map[string]*corev1.PersistentVolume
	pvcs    map[string]*corev1.PersistentVolumeClaim // by "ns/name"
	// imageNodes counts the nodes holding each (normalized) image name.
	imageNodes map[string]int
	// podsWithAffinity and podsWithRequiredAnti count pods whose affinity the
	// inter-pod checks must visit; when zero those checks are skipped.
	podsWithAffinity     int
	podsWithRequiredAnti int
	// nominated holds pending pods nominated to a node by preemption, by
	// node; nominatedNode their node by "ns/name". The room they freed is
	// theirs: pods of lower priority are filtered as if they ran there.
	nominated     map[string][]*podInfo
	nominatedNode map[string]string
}

// NodeInfo is one node and what is placed on it.
type NodeInfo struct {
	Node *corev1.Node
	// Requested is the sum of the effective requests of the node's pods.
	Requested Resources
	// Allocatable is read from the node status.
	Allocatable Resources

	pods                   []*podInfo
	nonZeroCPU, nonZeroMem int64 // requests for scoring (with defaults)
	ports                  []hostPort
	images                 map[string]int64 // normalized image name → size
	withAffinity           int
	withRequiredAnti       int
}

// Name returns the node name.
func (n *NodeInfo) Name() string { return n.Node.Name }

// Pods returns the pods accounted on the node.
func (n *NodeInfo) Pods() []*corev1.Pod {
	out := make([]*corev1.Pod, len(n.pods))
	for i, p := range n.pods {
		out[i] = p.pod
	}
	return out
}

// Option adds optional inputs to NewSnapshot.
type Option func(*Snapshot)

// WithNamespaces supplies namespace labels for namespaceSelector.
func WithNamespaces(nss []*corev1.Namespace) Option {
	return func(s *Snapshot) {
		for _, ns := range nss {
			s.Namespaces[ns.Name] = labels.Set(ns.Labels)
		}
	}
}

// WithVolumes supplies PersistentVolumes and claims for volume node affinity.
func WithVolumes(pvs []*corev1.PersistentVolume, pvcs []*corev1.PersistentVolumeClaim) Option {
	return func(s *Snapshot) {
		for _, pv := range pvs {
			s.pvs[pv.Name] = pv
		}
		for _, c := range pvcs {
			s.pvcs[c.Namespace+"/"+c.Name] = c
		}
	}
}

// NewSnapshot builds a snapshot. Pods without spec.nodeName, on unknown
// nodes, or in a terminal phase are not accounted.
func NewSnapshot(nodes []*corev1.Node, pods []*corev1.Pod, opts ...Option) *Snapshot {
	s := &Snapshot{
		Namespaces: map[string]labels.Set{},
		byName:     make(map[string]*NodeInfo, len(nodes)),
		podNode:    make(map[string]string, len(pods)),
		pvs:        map[string]*corev1.PersistentVolume{},
		pvcs:       map[string]*corev1.PersistentVolumeClaim{},
		imageNodes: map[string]int{},

		nominated:     map[string][]*podInfo{},
		nominatedNode: map[string]string{},
	}
	for _, n := range nodes {
		s.SetNode(n)
	}
	for _, p := range pods {
		s.AddPod(p)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Node returns the named node, or nil.
func (s *Snapshot) Node(name string) *NodeInfo { return s.byName[name] }

// SetNode adds a node or replaces its object, keeping its pods.
func (s *Snapshot) SetNode(n *corev1.Node) {
	ni := s.byName[n.Name]
	if ni == nil {
		ni = &NodeInfo{}
		s.byName[n.Name] = ni
		s.Nodes = append(s.Nodes, ni)
	} else {
		s.countImages(ni, -1)
	}
	ni.Node = n
	ni.Allocatable = nodeAllocatable(n)
	ni.images = nodeImages(n)
	s.countImages(ni, 1)
}

// RemoveNode forgets a node and the pods on it.
func (s *Snapshot) RemoveNode(name string) {
	ni := s.byName[name]
	if ni == nil {
		return
	}
	for _, p := range slices.Clone(ni.pods) {
		s.RemovePod(p.pod)
	}
	s.countImages(ni, -1)
	delete(s.byName, name)
	s.Nodes = slices.DeleteFunc(s.Nodes, func(x *NodeInfo) bool { return x == ni })
}

func (s *Snapshot) countImages(ni *NodeInfo, delta int) {
	for name := range ni.images {
		s.imageNodes[name] += delta
		if s.imageNodes[name] <= 0 {
			delete(s.imageNodes, name)
		}
	}
}

// SetNamespace records a namespace's labels.
func (s *Snapshot) SetNamespace(ns *corev1.Namespace) { s.Namespaces[ns.Name] = labels.Set(ns.Labels) }

// SetVolume records a PersistentVolume; SetClaim a claim.
func (s *Snapshot) SetVolume(pv *corev1.PersistentVolume) { s.pvs[pv.Name] = pv }

// SetClaim records a PersistentVolumeClaim.
func (s *Snapshot) SetClaim(c *corev1.PersistentVolumeClaim) { s.pvcs[c.Namespace+"/"+c.Name] = c }

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

// AddPod accounts a pod on its spec.nodeName. A pod already accounted is
// replaced (so an informer update after Assume is harmless).
func (s *Snapshot) AddPod(p *corev1.Pod) {
	if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		s.RemovePod(p)
		return
	}
	ni := s.byName[p.Spec.NodeName]
	if ni == nil {
		return
	}
	s.RemovePod(p)
	pi := newPodInfo(p)
	ni.pods = append(ni.pods, pi)
	ni.addPod(pi, 1)
	s.podNode[podKey(p)] = ni.Name()
	s.countAffinity(pi, 1)
}

// RemovePod forgets a pod wherever it was accounted, and its nomination.
func (s *Snapshot) RemovePod(p *corev1.Pod) {
	key := podKey(p)
	s.Nominate(p, "")
	node, ok := s.podNode[key]
	if !ok {
		return
	}
	delete(s.podNode, key)
	ni := s.byName[node]
	if ni == nil {
		return
	}
	i := slices.IndexFunc(ni.pods, func(x *podInfo) bool { return podKey(x.pod) == key })
	if i < 0 {
		return
	}
	pi := ni.pods[i]
	ni.pods = slices.Delete(ni.pods, i, i+1)
	ni.addPod(pi, -1)
	s.countAffinity(pi, -1)
}

// Assume accounts pod as bound to node before the informer reports it, for
// optimistic binding. The caller's pod is not modified.
func (s *Snapshot) Assume(pod *corev1.Pod, node string) {
	cp := *pod
	cp.Spec.NodeName = node
	s.AddPod(&cp)
}

func (s *Snapshot) countAffinity(pi *podInfo, delta int) {
	if pi.hasAffinity() {
		s.podsWithAffinity += delta
	}
	if len(pi.requiredAnti) > 0 {
		s.podsWithRequiredAnti += delta
	}
}

// addPod adds (sign 1) or subtracts (sign -1) a pod's usage.
func (n *NodeInfo) addPod(pi *podInfo, sign int) {
	if sign > 0 {
		n.Requested.Add(pi.req)
		n.ports = append(n.ports, pi.ports...)
	} else {
		n.Requested.Sub(pi.req)
		n.ports = removePorts(n.ports, pi.ports)
	}
	n.nonZeroCPU += int64(sign) * pi.nonZeroCPU
	n.nonZeroMem += int64(sign) * pi.nonZeroMem
	if pi.hasAffinity() {
		n.withAffinity += sign
	}
	if len(pi.requiredAnti) > 0 {
		n.withRequiredAnti += sign
	}
}

// clone returns a copy of n whose pod list and usage can be changed without
// affecting n (used by preemption to try removing victims).
func (n *NodeInfo) clone() *NodeInfo {
	c := *n
	c.pods = slices.Clone(n.pods)
	c.ports = slices.Clone(n.ports)
	c.Requested.Scalar = nil
	c.Requested.Add(Resources{Scalar: n.Requested.Scalar})
	return &c
}

// removePod removes pi from a cloned NodeInfo.
func (n *NodeInfo) removePod(pi *podInfo) {
	i := slices.Index(n.pods, pi)
	if i < 0 {
		return
	}
	n.pods = slices.Delete(n.pods, i, i+1)
	n.addPod(pi, -1)
}

// restorePod adds pi back to a cloned NodeInfo.
func (n *NodeInfo) restorePod(pi *podInfo) {
	n.pods = append(n.pods, pi)
	n.addPod(pi, 1)
}

// Nominate records that pending pod is to go to node once preemption has
// made room there ("" forgets the nomination). Until the pod is bound or
// deleted, filters count it on node for pods of lower priority.
func (s *Snapshot) Nominate(p *corev1.Pod, node string) {
	key := podKey(p)
	if old, ok := s.nominatedNode[key]; ok {
		delete(s.nominatedNode, key)
		s.nominated[old] = slices.DeleteFunc(s.nominated[old], func(x *podInfo) bool { return podKey(x.pod) == key })
		if len(s.nominated[old]) == 0 {
			delete(s.nominated, old)
		}
	}
	if node == "" {
		return
	}
	s.nominatedNode[key] = node
	s.nominated[node] = append(s.nominated[node], newPodInfo(p))
}

// NominatedNode returns the node a pod is nominated to, or "".
func (s *Snapshot) NominatedNode(p *corev1.Pod) string { return s.nominatedNode[podKey(p)] }

// withNominated returns n, or a copy of n with the pods nominated to it
// added when their priority is at least the incoming pod's (the pod
// itself excepted), as upstream filters.
func (c *cycle) withNominated(n *NodeInfo) *NodeInfo {
	noms := c.snap.nominated[n.Name()]
	if len(noms) == 0 {
		return n
	}
	prio, key := PodPriority(c.pod), podKey(c.pod)
	out := n
	for _, pi := range noms {
		if podKey(pi.pod) == key || PodPriority(pi.pod) < prio {
			continue
		}
		if out == n {
			out = n.clone()
		}
		out.restorePod(pi)
	}
	return out
}
