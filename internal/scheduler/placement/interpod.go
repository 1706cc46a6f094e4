package placement

import (
	corev1 "k8s.io/api/core/v1"
)

// topoPair is one topology domain: a node label key and value.
type topoPair struct{ key, value string }

// interPodState holds, per topology domain, the counts the required
// inter-pod affinity checks need (upstream's PreFilter state).
type interPodState struct {
	// affinity counts existing pods matching all the incoming pod's
	// required affinity terms, per term topology domain.
	affinity map[topoPair]int
	// anti counts existing pods matching each required anti-affinity term.
	anti map[topoPair]int
	// existingAnti counts existing pods' required anti-affinity terms that
	// match the incoming pod, in the existing pod's domain.
	existingAnti map[topoPair]int
	// selfMatch: the incoming pod matches all its own affinity terms.
	selfMatch bool
}

// newInterPodState returns nil when there is nothing to check.
func newInterPodState(c *cycle) *interPodState {
	pi := c.pi
	own := len(pi.requiredAffinity)+len(pi.requiredAnti) > 0
	if !own && c.snap.podsWithRequiredAnti == 0 {
		return nil
	}
	size := func(terms []affinityTerm) int { // one domain per node at most
		if len(terms) == 0 {
			return 0
		}
		return len(c.snap.Nodes)
	}
	s := &interPodState{
		affinity:     make(map[topoPair]int, size(pi.requiredAffinity)),
		anti:         make(map[topoPair]int, size(pi.requiredAnti)),
		existingAnti: make(map[topoPair]int, min(c.snap.podsWithRequiredAnti, len(c.snap.Nodes))),
		selfMatch:    matchesAll(pi.requiredAffinity, c.pod, c.snap.Namespaces),
	}
	for _, n := range c.snap.Nodes {
		if !own && n.withRequiredAnti == 0 {
			continue
		}
		for _, ep := range n.pods {
			s.update(c, ep, n.Node, 1)
		}
	}
	return s
}

// update adds (delta 1) or removes (delta -1) an existing pod's
// contribution; preemption uses it to try removing victims.
func (s *interPodState) update(c *cycle, ep *podInfo, node *corev1.Node, delta int) {
	ns := c.snap.Namespaces
	add := func(m map[topoPair]int, key string) {
		if v, ok := node.Labels[key]; ok {
			m[topoPair{key, v}] += delta
		}
	}
	if matchesAll(c.pi.requiredAffinity, ep.pod, ns) {
		for i := range c.pi.requiredAffinity {
			add(s.affinity, c.pi.requiredAffinity[i].topologyKey)
		}
	}
	for i := range c.pi.requiredAnti {
		if c.pi.requiredAnti[i].matches(ep.pod, ns) {
			add(s.anti, c.pi.requiredAnti[i].topologyKey)
		}
	}
	for i := range ep.requiredAnti {
		if ep.requiredAnti[i].matches(c.pod, ns) {
			add(s.existingAnti, ep.requiredAnti[i].topologyKey)
		}
	}
}

// checkInterPod applies required pod affinity, the pod's anti-affinity and
// existing pods' anti-affinity against the incoming pod.
func checkInterPod(c *cycle, n *NodeInfo) []string {
	s := c.interPod
	if s == nil {
		return nil
	}
	labels := n.Node.Labels
	if !s.satisfiesAffinity(c, labels) {
		return reason(ReasonPodAffinity)
	}
	for i := range c.pi.requiredAnti {
		key := c.pi.requiredAnti[i].topologyKey
		if v, ok := labels[key]; ok && s.anti[topoPair{key, v}] > 0 {
			return reason(ReasonPodAntiAffinity)
		}
	}
	if len(s.existingAnti) > 0 {
		for k, v := range labels {
			if s.existingAnti[topoPair{k, v}] > 0 {
				return reason(ReasonExistingAntiAffinity)
			}
		}
	}
	return nil
}

// satisfiesAffinity: the node has every term's topology key, and each
// term's domain holds a matching pod — or no pod anywhere matches and the
// pod matches its own terms (the first pod of a group that attracts itself).
func (s *interPodState) satisfiesAffinity(c *cycle, labels map[string]string) bool {
	found := true
	for i := range c.pi.requiredAffinity {
		key := c.pi.requiredAffinity[i].topologyKey
		v, ok := labels[key]
		if !ok {
			return false
		}
		if s.affinity[topoPair{key, v}] <= 0 {
			found = false
		}
	}
	if found {
		return true
	}
	return s.selfMatch && !anyPositive(s.affinity)
}

func anyPositive(m map[topoPair]int) bool {
	for _, v := range m {
		if v > 0 {
			return true
		}
	}
	return false
}

// scoreInterPod sums, per topology domain, the weights of preferred terms
// matched between the incoming pod and existing pods in both directions
// (and existing pods' required affinity at HardPodAffinityWeight), then
// scales min..max to 0..100.
func scoreInterPod(c *cycle, nodes []*NodeInfo, out []int64) {
	pi := c.pi
	preferred := len(pi.preferredAffinity)+len(pi.preferredAnti) > 0
	if !preferred && c.snap.podsWithAffinity == 0 {
		return
	}
	domains := map[string]map[string]int64{} // key → value → score
	for _, n := range c.snap.Nodes {
		if !preferred && n.withAffinity == 0 {
			continue
		}
		for _, ep := range n.pods {
			c.scoreExistingPod(ep, n.Node, domains)
		}
	}
	if len(domains) == 0 {
		return
	}
	for i, n := range nodes {
		for key, vals := range domains {
			if v, ok := n.Node.Labels[key]; ok {
				out[i] += vals[v]
			}
		}
	}
	normalizeMinMax(out)
}

// scoreExistingPod adds one existing pod's contribution to domains.
func (c *cycle) scoreExistingPod(ep *podInfo, node *corev1.Node, domains map[string]map[string]int64) {
	ns := c.snap.Namespaces
	add := func(key string, w int64) {
		v, ok := node.Labels[key]
		if !ok || w == 0 {
			return
		}
		if domains[key] == nil {
			domains[key] = map[string]int64{}
		}
		domains[key][v] += w
	}
	for _, t := range c.pi.preferredAffinity {
		if t.matches(ep.pod, ns) {
			add(t.topologyKey, t.weight)
		}
	}
	for _, t := range c.pi.preferredAnti {
		if t.matches(ep.pod, ns) {
			add(t.topologyKey, -t.weight)
		}
	}
	if hw := c.cfg.hardAffinityWeight(); hw > 0 {
		for i := range ep.requiredAffinity {
			if ep.requiredAffinity[i].matches(c.pod, ns) {
				add(ep.requiredAffinity[i].topologyKey, hw)
			}
		}
	}
	for _, t := range ep.preferredAffinity {
		if t.matches(c.pod, ns) {
			add(t.topologyKey, t.weight)
		}
	}
	for _, t := range ep.preferredAnti {
		if t.matches(c.pod, ns) {
			add(t.topologyKey, -t.weight)
		}
	}
}
