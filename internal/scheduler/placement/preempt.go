package placement

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// resolvable lists the reasons that evicting pods can cure; a node rejected
// for any other reason is no preemption candidate.
func resolvable(reasons []string) bool {
	for _, r := range reasons {
		switch {
		case r == ReasonTooManyPods, r == ReasonHostPorts, r == ReasonPodAntiAffinity,
			r == ReasonExistingAntiAffinity, r == ReasonSpread:
		case len(r) > 13 && r[:13] == "Insufficient ":
		default:
			return false
		}
	}
	return true
}

// PodPriority returns spec.priority, 0 when unset.
func PodPriority(p *corev1.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	return 0
}

// candidate is one node where evicting victims makes the pod fit.
type candidate struct {
	node          string
	victims       []*podInfo
	pdbViolations int
}

// Preempt finds the node where evicting lower-priority pods lets pod fit,
// choosing (as upstream) the fewest PodDisruptionBudget violations, then the
// lowest highest-victim priority, the lowest priority sum, the fewest
// victims, then node order. On each node it evicts every lower-priority pod,
// then reprieves as many as still allow the pod to fit, most important (and
// PDB-protected) first. ok is false for preemptionPolicy Never or when no
// node qualifies; a node that already fits is returned with no victims.
func Preempt(pod *corev1.Pod, snap *Snapshot, cfg Config, pdbs []*policyv1.PodDisruptionBudget) (string, []*corev1.Pod, bool) {
	if p := pod.Spec.PreemptionPolicy; p != nil && *p == corev1.PreemptNever {
		return "", nil, false
	}
	c, msg := newCycle(pod, snap, &cfg)
	if msg != "" {
		return "", nil, false
	}
	var best *candidate
	for _, n := range snap.Nodes {
		reasons := c.filter(n)
		if reasons == nil {
			return n.Name(), nil, true
		}
		if !resolvable(reasons) {
			continue
		}
		if cand := c.selectVictims(n, pdbs); cand != nil && (best == nil || better(cand, best)) {
			best = cand
		}
	}
	if best == nil {
		return "", nil, false
	}
	victims := make([]*corev1.Pod, len(best.victims))
	for i, v := range best.victims {
		victims[i] = v.pod
	}
	return best.node, victims, true
}

// selectVictims works on a copy of the node and leaves the cycle's
// cluster-wide state as it found it.
func (c *cycle) selectVictims(n *NodeInfo, pdbs []*policyv1.PodDisruptionBudget) *candidate {
	prio := PodPriority(c.pod)
	work := n.clone()
	var potential []*podInfo
	for _, p := range n.pods {
		if PodPriority(p.pod) < prio {
			potential = append(potential, p)
			c.removeFrom(work, p)
		}
	}
	defer func() {
		for _, p := range potential {
			if slices.Contains(work.pods, p) {
				continue
			}
			c.restoreTo(work, p)
		}
	}()
	if len(potential) == 0 || c.filter(work) != nil {
		return nil
	}
	slices.SortStableFunc(potential, moreImportant)
	violating, other := splitByPDB(potential, pdbs)
	cand := &candidate{node: n.Name()}
	reprieve := func(p *podInfo) bool {
		c.restoreTo(work, p)
		if c.filter(work) == nil {
			return true
		}
		c.removeFrom(work, p)
		cand.victims = append(cand.victims, p)
		return false
	}
	for _, p := range violating {
		if !reprieve(p) {
			cand.pdbViolations++
		}
	}
	for _, p := range other {
		reprieve(p)
	}
	return cand
}

func (c *cycle) removeFrom(work *NodeInfo, p *podInfo) {
	work.removePod(p)
	if c.interPod != nil {
		c.interPod.update(c, p, work.Node, -1)
	}
	if c.spread != nil {
		c.spread.update(c, p, work.Node, -1)
	}
}

func (c *cycle) restoreTo(work *NodeInfo, p *podInfo) {
	work.restorePod(p)
	if c.interPod != nil {
		c.interPod.update(c, p, work.Node, 1)
	}
	if c.spread != nil {
		c.spread.update(c, p, work.Node, 1)
	}
}

// moreImportant orders higher priority first, then the earlier started.
func moreImportant(a, b *podInfo) int {
	pa, pb := PodPriority(a.pod), PodPriority(b.pod)
	if pa != pb {
		return int(pb) - int(pa)
	}
	return startTime(a.pod).Compare(startTime(b.pod).Time)
}

func startTime(p *corev1.Pod) metav1.Time {
	if p.Status.StartTime != nil {
		return *p.Status.StartTime
	}
	return p.CreationTimestamp
}

// splitByPDB separates the pods whose eviction would exceed a matching
// budget's disruptionsAllowed (in the given order) from the rest.
func splitByPDB(pods []*podInfo, pdbs []*policyv1.PodDisruptionBudget) (violating, other []*podInfo) {
	allowed := make([]int32, len(pdbs))
	sels := make([]labels.Selector, len(pdbs))
	for i, pdb := range pdbs {
		allowed[i] = pdb.Status.DisruptionsAllowed
		if s, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil && pdb.Spec.Selector != nil {
			sels[i] = s
		}
	}
	for _, p := range pods {
		violates := false
		for i, pdb := range pdbs {
			if sels[i] == nil || sels[i].Empty() || pdb.Namespace != p.pod.Namespace || !sels[i].Matches(labels.Set(p.pod.Labels)) {
				continue
			}
			if _, gone := pdb.Status.DisruptedPods[p.pod.Name]; gone {
				continue
			}
			allowed[i]--
			if allowed[i] < 0 {
				violates = true
			}
		}
		if violates {
			violating = append(violating, p)
		} else {
			other = append(other, p)
		}
	}
	return violating, other
}

// better compares candidates by upstream's criteria.
func better(a, b *candidate) bool {
	if a.pdbViolations != b.pdbViolations {
		return a.pdbViolations < b.pdbViolations
	}
	ha, hb := highestPriority(a.victims), highestPriority(b.victims)
	if ha != hb {
		return ha < hb
	}
	sa, sb := prioritySum(a.victims), prioritySum(b.victims)
	if sa != sb {
		return sa < sb
	}
	return len(a.victims) < len(b.victims)
}

func highestPriority(vs []*podInfo) int64 {
	h := int64(-1 << 40)
	for _, v := range vs {
		h = max(h, int64(PodPriority(v.pod)))
	}
	return h
}

// prioritySum adds priorities shifted to be non-negative, as upstream does,
// so more victims never look cheaper.
func prioritySum(vs []*podInfo) int64 {
	var s int64
	for _, v := range vs {
		s += int64(PodPriority(v.pod)) + 1<<31
	}
	return s
}

// Preemption messages, as upstream words them.
const (
	msgNoVictims   = "No preemption victims found for incoming pod"
	msgNotHelpful  = "Preemption is not helpful for scheduling"
	msgNeverPolicy = "not eligible due to preemptionPolicy=Never"
)

// PreemptionMessage explains why preemption did not help, to follow
// Error() in the pod's event: "preemption: 0/5 nodes are available:
// 2 No preemption victims found for incoming pod, 3 Preemption is not
// helpful for scheduling."
func (e *FitError) PreemptionMessage(pod *corev1.Pod) string {
	if p := pod.Spec.PreemptionPolicy; p != nil && *p == corev1.PreemptNever {
		return "preemption: " + msgNeverPolicy + "."
	}
	byNode := make(map[string][]string, len(e.Reasons))
	for node, reasons := range e.Reasons {
		if resolvable(reasons) {
			byNode[node] = []string{msgNoVictims}
		} else {
			byNode[node] = []string{msgNotHelpful}
		}
	}
	fe := FitError{NumNodes: e.NumNodes, Reasons: byNode}
	if e.PreFilterMsg != "" {
		fe.PreFilterMsg = msgNotHelpful
	}
	return "preemption: " + fe.Error()
}
