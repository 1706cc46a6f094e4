package placement

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// spreadConstraint is a parsed TopologySpreadConstraint.
type spreadConstraint struct {
	maxSkew       int64
	topologyKey   string
	minDomains    int
	selector      labels.Selector
	honorAffinity bool // nodeAffinityPolicy Honor (default)
	honorTaints   bool // nodeTaintsPolicy Honor (default Ignore)
	selfMatch     int  // 1 when the incoming pod matches the selector
}

// spreadState counts matching pods per domain for each constraint.
type spreadState struct {
	constraints []spreadConstraint
	counts      []map[string]int // per constraint: domain value → pods
	minMatch    []int            // per constraint: the global minimum
}

// newSpreadConstraints parses the constraints with the given
// whenUnsatisfiable; matchLabelKeys become In requirements on the pod's values.
func newSpreadConstraints(pod *corev1.Pod, when corev1.UnsatisfiableConstraintAction) []spreadConstraint {
	var out []spreadConstraint
	for i := range pod.Spec.TopologySpreadConstraints {
		tc := &pod.Spec.TopologySpreadConstraints[i]
		if tc.WhenUnsatisfiable != when {
			continue
		}
		sel := selectorOrNothing(tc.LabelSelector)
		for _, key := range tc.MatchLabelKeys {
			if v, ok := pod.Labels[key]; ok {
				if r, err := labels.NewRequirement(key, selection.In, []string{v}); err == nil {
					sel = sel.Add(*r)
				}
			}
		}
		sc := spreadConstraint{
			maxSkew:       int64(tc.MaxSkew),
			topologyKey:   tc.TopologyKey,
			minDomains:    1,
			selector:      sel,
			honorAffinity: tc.NodeAffinityPolicy == nil || *tc.NodeAffinityPolicy == corev1.NodeInclusionPolicyHonor,
			honorTaints:   tc.NodeTaintsPolicy != nil && *tc.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor,
		}
		if tc.MinDomains != nil {
			sc.minDomains = int(*tc.MinDomains)
		}
		if sel.Matches(labels.Set(pod.Labels)) {
			sc.selfMatch = 1
		}
		out = append(out, sc)
	}
	return out
}

// eligible reports whether a node's pods count for constraint sc: it has
// every constraint's key and passes the inclusion policies.
func (c *cycle) eligible(cs []spreadConstraint, sc *spreadConstraint, n *corev1.Node) bool {
	var e eligibility
	return e.check(c, cs, sc, n)
}

// eligibility evaluates the inclusion checks for one node at most once
// each, however many constraints ask.
type eligibility struct {
	keys, affinity, taints int8 // 0 unknown, 1 yes, -1 no
}

func tri(b bool) int8 {
	if b {
		return 1
	}
	return -1
}

func (e *eligibility) check(c *cycle, cs []spreadConstraint, sc *spreadConstraint, n *corev1.Node) bool {
	if e.keys == 0 {
		e.keys = tri(hasKeys(cs, n))
	}
	if e.keys < 0 {
		return false
	}
	if sc.honorAffinity {
		if e.affinity == 0 {
			e.affinity = tri(c.nodeAffinity.matches(n))
		}
		if e.affinity < 0 {
			return false
		}
	}
	if sc.honorTaints {
		if e.taints == 0 {
			e.taints = tri(toleratesAll(c.pod.Spec.Tolerations, n.Spec.Taints))
		}
		if e.taints < 0 {
			return false
		}
	}
	return true
}

func hasKeys(cs []spreadConstraint, n *corev1.Node) bool {
	for i := range cs {
		if _, ok := n.Labels[cs[i].topologyKey]; !ok {
			return false
		}
	}
	return true
}

// toleratesAll reports whether every NoSchedule/NoExecute taint is tolerated.
func toleratesAll(tols []corev1.Toleration, taints []corev1.Taint) bool {
	for i := range taints {
		t := &taints[i]
		if (t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute) && !tolerated(tols, t) {
			return false
		}
	}
	return true
}

// countMatching counts the pods on a node that a constraint selects: same
// namespace as the incoming pod, not terminating.
func (c *cycle) countMatching(sc *spreadConstraint, pods []*podInfo) int {
	n := 0
	for _, p := range pods {
		if p.pod.Namespace == c.pod.Namespace && p.pod.DeletionTimestamp == nil && sc.selector.Matches(labels.Set(p.pod.Labels)) {
			n++
		}
	}
	return n
}

// domainCounts counts matching pods per domain over the eligible nodes.
func (c *cycle) domainCounts(cs []spreadConstraint) []map[string]int {
	counts := make([]map[string]int, len(cs))
	for i := range cs {
		size := 0
		if cs[i].topologyKey == corev1.LabelHostname { // one domain per node
			size = len(c.snap.Nodes)
		}
		counts[i] = make(map[string]int, size)
	}
	for _, n := range c.snap.Nodes {
		var e eligibility
		for i := range cs {
			if e.check(c, cs, &cs[i], n.Node) {
				counts[i][n.Node.Labels[cs[i].topologyKey]] += c.countMatching(&cs[i], n.pods)
			}
		}
	}
	return counts
}

// newSpreadState returns nil when the pod has no DoNotSchedule constraint.
func newSpreadState(c *cycle) *spreadState {
	cs := newSpreadConstraints(c.pod, corev1.DoNotSchedule)
	if len(cs) == 0 {
		return nil
	}
	s := &spreadState{constraints: cs, counts: c.domainCounts(cs), minMatch: make([]int, len(cs))}
	for i := range cs {
		s.recomputeMin(i)
	}
	return s
}

// recomputeMin sets the global minimum for constraint i; with fewer
// domains than minDomains it is 0.
func (s *spreadState) recomputeMin(i int) {
	if len(s.counts[i]) < s.constraints[i].minDomains {
		s.minMatch[i] = 0
		return
	}
	m := math.MaxInt
	for _, v := range s.counts[i] {
		m = min(m, v)
	}
	if m == math.MaxInt {
		m = 0
	}
	s.minMatch[i] = m
}

// update adds or removes one pod's contribution (for preemption).
func (s *spreadState) update(c *cycle, p *podInfo, n *corev1.Node, delta int) {
	for i := range s.constraints {
		sc := &s.constraints[i]
		if !c.eligible(s.constraints, sc, n) || c.countMatching(sc, []*podInfo{p}) == 0 {
			continue
		}
		s.counts[i][n.Labels[sc.topologyKey]] += delta
		s.recomputeMin(i)
	}
}

// checkSpread rejects a node lacking a constraint's key, or where placing
// the pod would make its domain exceed maxSkew over the global minimum.
func checkSpread(c *cycle, n *NodeInfo) []string {
	s := c.spread
	if s == nil {
		return nil
	}
	for i := range s.constraints {
		sc := &s.constraints[i]
		v, ok := n.Node.Labels[sc.topologyKey]
		if !ok {
			return reason(ReasonSpreadMissingLabel)
		}
		if int64(s.counts[i][v]+sc.selfMatch-s.minMatch[i]) > sc.maxSkew {
			return reason(ReasonSpread)
		}
	}
	return nil
}

// scoreSpread scores ScheduleAnyway constraints as upstream: each domain's
// matching pods weighted by log(domains+2), plus maxSkew-1; fewer is better,
// scaled so the emptiest node gets 100. Nodes lacking a key get 0.
func scoreSpread(c *cycle, nodes []*NodeInfo, out []int64) {
	cs := newSpreadConstraints(c.pod, corev1.ScheduleAnyway)
	if len(cs) == 0 {
		return
	}
	counts := c.domainCounts(cs)
	ignored := make([]bool, len(nodes))
	weights := make([]float64, len(cs))
	for i := range cs {
		domains := map[string]bool{}
		for j, n := range nodes {
			if v, ok := n.Node.Labels[cs[i].topologyKey]; ok {
				domains[v] = true
			} else {
				ignored[j] = true
			}
		}
		weights[i] = math.Log(float64(len(domains) + 2))
	}
	for j, n := range nodes {
		if ignored[j] {
			continue
		}
		var f float64
		for i := range cs {
			f += float64(counts[i][n.Node.Labels[cs[i].topologyKey]])*weights[i] + float64(cs[i].maxSkew-1)
		}
		out[j] = int64(math.Round(f))
	}
	normalizeSpread(out, ignored)
}

func normalizeSpread(out []int64, ignored []bool) {
	minS, maxS := int64(math.MaxInt64), int64(0)
	for i, s := range out {
		if ignored[i] {
			continue
		}
		minS, maxS = min(minS, s), max(maxS, s)
	}
	for i, s := range out {
		switch {
		case ignored[i]:
			out[i] = 0
		case maxS == 0:
			out[i] = 100
		default:
			out[i] = 100 * (maxS + minS - s) / maxS
		}
	}
}
