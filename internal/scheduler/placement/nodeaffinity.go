package placement

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// nodeMatcher is a pod's nodeSelector plus its required node affinity.
type nodeMatcher struct {
	selector map[string]string
	required *corev1.NodeSelector
}

func newNodeMatcher(pod *corev1.Pod) nodeMatcher {
	m := nodeMatcher{selector: pod.Spec.NodeSelector}
	if a := pod.Spec.Affinity; a != nil && a.NodeAffinity != nil {
		m.required = a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution
	}
	return m
}

// matches reports whether the node satisfies both the selector and the
// required terms.
func (m *nodeMatcher) matches(n *corev1.Node) bool {
	for k, v := range m.selector {
		if got, ok := n.Labels[k]; !ok || got != v {
			return false
		}
	}
	return m.required == nil || nodeSelectorMatches(m.required, n)
}

// nodeSelectorMatches reports whether any term matches (terms are ORed).
func nodeSelectorMatches(ns *corev1.NodeSelector, n *corev1.Node) bool {
	for i := range ns.NodeSelectorTerms {
		if termMatches(&ns.NodeSelectorTerms[i], n) {
			return true
		}
	}
	return false
}

// termMatches reports whether every expression and field requirement of the
// term holds. An empty term matches nothing.
func termMatches(t *corev1.NodeSelectorTerm, n *corev1.Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for i := range t.MatchExpressions {
		r := &t.MatchExpressions[i]
		v, ok := n.Labels[r.Key]
		if !requirementMatches(r, v, ok) {
			return false
		}
	}
	for i := range t.MatchFields {
		r := &t.MatchFields[i]
		if r.Key != "metadata.name" || !requirementMatches(r, n.Name, true) {
			return false
		}
	}
	return true
}

// requirementMatches applies one operator to a value (present says whether
// the label exists).
func requirementMatches(r *corev1.NodeSelectorRequirement, v string, present bool) bool {
	switch r.Operator {
	case corev1.NodeSelectorOpIn:
		return present && contains(r.Values, v)
	case corev1.NodeSelectorOpNotIn:
		return !present || !contains(r.Values, v)
	case corev1.NodeSelectorOpExists:
		return present
	case corev1.NodeSelectorOpDoesNotExist:
		return !present
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if !present || len(r.Values) != 1 {
			return false
		}
		have, err1 := strconv.ParseInt(v, 10, 64)
		want, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == corev1.NodeSelectorOpGt {
			return have > want
		}
		return have < want
	}
	return false
}

func contains(vals []string, v string) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

// scoreNodeAffinity sums the weights of the preferred terms the node
// matches; normalized to 0..100 by the best node.
func scoreNodeAffinity(c *cycle, nodes []*NodeInfo, out []int64) {
	a := c.pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return
	}
	prefs := a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution
	for i, n := range nodes {
		for j := range prefs {
			if termMatches(&prefs[j].Preference, n.Node) {
				out[i] += int64(prefs[j].Weight)
			}
		}
	}
	normalize(out, false)
}
