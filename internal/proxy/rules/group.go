package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// group is what one Service contributes to a RuleSet (or, for the base
// group, what every table has). Groups are immutable once built, so a
// RuleSet may share them with the RuleSet computed before it, and Diff
// skips groups that both sides share.
type group struct {
	chains map[string]*Chain
	// sets are declarations without elements.
	sets map[string]*Set
	// elements go into sets and maps, possibly shared with other groups.
	elements            []SetElement
	healthCheckNodePort int32
	warnings            []string
}

func newGroup() *group {
	return &group{chains: map[string]*Chain{}, sets: map[string]*Set{}}
}

// env is what every group depends on besides its own Service.
type env struct {
	nodeName, nodeIPs, clusterCIDR string
	endpointChains                 bool
}

// Computer computes rule sets incrementally. A Service whose object and
// EndpointSlices are the same as at the previous Compute (same pointers,
// or same UIDs and resource versions) keeps its previous group of rules;
// the RuleSet is patched from the previous one, and Diff between
// consecutive results only looks at Services that changed. The zero value
// is ready; a Computer is not safe for concurrent use.
type Computer struct {
	env  env
	base *group
	prev map[string]cachedService
	last *RuleSet
}

// cachedService is the group computed for a Service and what it came from.
type cachedService struct {
	svc    *corev1.Service
	slices []*discoveryv1.EndpointSlice
	group  *group
}

// Compute builds the rule set for one node, reusing the groups of
// unchanged Services. It never fails: input it cannot use is skipped and
// reported in RuleSet.Warnings.
func (c *Computer) Compute(in Input) *RuleSet {
	b := &builder{nodeName: in.NodeName, nodeIPs: ipv4Strings(in.NodeIPs), g: newGroup(),
		endpointChains: in.EndpointChains}
	b.podCIDR = b.parseClusterCIDR(in.ClusterCIDR)
	e := env{nodeName: b.nodeName, nodeIPs: strings.Join(b.nodeIPs, ","), clusterCIDR: in.ClusterCIDR,
		endpointChains: in.EndpointChains}
	if c.base == nil || e != c.env {
		b.addBase()
		c.env, c.base, c.prev, c.last = e, b.g, nil, nil
	}

	bySvc := slicesByService(in.Slices)
	next := make(map[string]cachedService, len(in.Services))
	var changed []string
	for _, svc := range in.Services {
		if svc == nil {
			continue
		}
		key := svc.Namespace + "/" + svc.Name
		cs := cachedService{svc: svc, slices: bySvc[key]}
		if old, ok := c.prev[key]; ok && sameObject(old.svc, svc) &&
			slices.EqualFunc(old.slices, cs.slices, sameObject) {
			cs.group = old.group
		} else {
			b.g = newGroup()
			b.addService(svc, cs.slices)
			cs.group = b.g
			changed = append(changed, key)
		}
		next[key] = cs
	}
	for key := range c.prev {
		if _, ok := next[key]; !ok {
			changed = append(changed, key)
		}
	}

	var r *RuleSet
	if c.last != nil && len(changed) < len(next)/4+1 {
		r = c.last.patch(c.prev, next, changed)
	}
	if r == nil {
		r = assemble(c.base, next)
	}
	c.prev, c.last = next, r
	return r
}

// sameObject reports whether two API objects are known to be equal.
func sameObject[T metav1.Object](a, b T) bool {
	if metav1.Object(a) == metav1.Object(b) {
		return true
	}
	return a.GetUID() == b.GetUID() && a.GetResourceVersion() != "" &&
		a.GetResourceVersion() == b.GetResourceVersion()
}

// assemble builds the RuleSet from the base group and the Services'
// groups. When two Services claim one map key (the same external IP and
// port, say), the first in namespace/name order keeps it.
func assemble(base *group, services map[string]cachedService) *RuleSet {
	r := newRuleSet()
	r.groups = make(map[string]*group, len(services)+1)
	keys := make([]string, 0, len(services))
	for k := range services {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r.addGroup("", base)
	for _, k := range keys {
		r.addGroup(k, services[k].group)
	}
	r.collectWarnings()
	return r
}

// addGroup adds a group's chains, sets and elements. An element whose key
// another group holds is left out and marks the RuleSet as conflicted.
func (r *RuleSet) addGroup(key string, g *group) (conflict bool) {
	r.groups[key] = g
	for name, c := range g.chains {
		r.Chains[name] = c
	}
	for name, s := range g.sets {
		cp := *s
		cp.Elements = map[string]Element{}
		r.Sets[name] = &cp
	}
	for _, se := range g.elements {
		s := r.Sets[se.Set]
		k := se.Element.KeyString()
		if se.Set == setHairpin { // shared by every Service that has the endpoint
			if r.hairpinRefs == nil {
				r.hairpinRefs = map[string]int{}
			}
			r.hairpinRefs[k]++
			s.Elements[k] = se.Element
			continue
		}
		if old, ok := s.Elements[k]; ok && old.Comment != se.Element.Comment {
			r.conflicts = append(r.conflicts, fmt.Sprintf("%s: %s claimed by %s and %s; keeping %s",
				se.Set, k, old.Comment, se.Element.Comment, old.Comment))
			conflict = true
			continue
		}
		s.Elements[k] = se.Element
	}
	if g.healthCheckNodePort > 0 {
		r.HealthCheckNodePorts[key] = g.healthCheckNodePort
	}
	return conflict
}

// removeGroup undoes addGroup; the RuleSet must have no conflicts.
func (r *RuleSet) removeGroup(key string, g *group) {
	delete(r.groups, key)
	for name := range g.chains {
		delete(r.Chains, name)
	}
	for name := range g.sets {
		delete(r.Sets, name)
	}
	for _, se := range g.elements {
		k := se.Element.KeyString()
		if se.Set == setHairpin {
			if r.hairpinRefs[k]--; r.hairpinRefs[k] > 0 {
				continue
			}
			delete(r.hairpinRefs, k)
		}
		delete(r.Sets[se.Set].Elements, k)
	}
	delete(r.HealthCheckNodePorts, key)
}

// patch returns a copy of r with the changed Services' groups replaced by
// those in next, or nil when a conflict asks for a full assemble.
func (r *RuleSet) patch(prev, next map[string]cachedService, changed []string) *RuleSet {
	if len(r.conflicts) > 0 {
		return nil
	}
	out := &RuleSet{
		Chains:               maps.Clone(r.Chains),
		Sets:                 maps.Clone(r.Sets),
		HealthCheckNodePorts: maps.Clone(r.HealthCheckNodePorts),
		groups:               maps.Clone(r.groups),
		hairpinRefs:          maps.Clone(r.hairpinRefs),
	}
	for name, s := range out.Sets { // the base maps and sets hold elements of every group
		if len(s.Elements) > 0 || r.groups[""].sets[name] != nil {
			cp := *s
			cp.Elements = maps.Clone(s.Elements)
			out.Sets[name] = &cp
		}
	}
	for _, k := range changed {
		if cs, ok := prev[k]; ok {
			out.removeGroup(k, cs.group)
		}
	}
	for _, k := range changed {
		if cs, ok := next[k]; ok && out.addGroup(k, cs.group) {
			return nil
		}
	}
	out.collectWarnings()
	return out
}

// collectWarnings sets Warnings from the groups, in Service order, then
// the key conflicts.
func (r *RuleSet) collectWarnings() {
	var keys []string
	for k, g := range r.groups {
		if len(g.warnings) > 0 {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	r.Warnings = nil
	for _, k := range keys {
		r.Warnings = append(r.Warnings, r.groups[k].warnings...)
	}
	r.Warnings = append(r.Warnings, r.conflicts...)
}
