package rules

import (
	"cmp"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
)

// Changes turns one RuleSet into another. Chains are compared whole: a
// chain whose rules differ is flushed and refilled. Sets and maps are
// compared element by element.
type Changes struct {
	// AddedChains are new chains, with their rules.
	AddedChains []*Chain
	// ChangedChains exist in both rule sets with different rules (or use a
	// set that is redeclared); they are flushed and refilled.
	ChangedChains []*Chain
	// DeletedChains are chains to remove.
	DeletedChains []string
	// AddedSets are new sets and sets whose declaration changed; their
	// elements are listed in AddedElements.
	AddedSets []*Set
	// DeletedSets are removed sets and sets whose declaration changed, as
	// they were declared.
	DeletedSets []*Set
	// AddedElements are new elements and elements whose value changed.
	AddedElements []SetElement
	// DeletedElements are removed elements and elements whose value
	// changed, in sets that are kept.
	DeletedElements []SetElement
}

// SetElement is an element of the named set.
type SetElement struct {
	Set     string
	Element Element
}

// Empty reports whether there is nothing to change.
func (c Changes) Empty() bool {
	return len(c.AddedChains)+len(c.ChangedChains)+len(c.DeletedChains)+len(c.AddedSets)+
		len(c.DeletedSets)+len(c.AddedElements)+len(c.DeletedElements) == 0
}

// Diff returns the changes that turn old into new. A nil old is an empty
// table (the base chains included), so Diff(nil, r) creates everything.
// When old and new come from the same Computer, only the Services whose
// rules were recomputed are compared, so the cost follows the change.
func Diff(old, new *RuleSet) Changes {
	if old == nil {
		old = newRuleSet()
	}
	if new == nil {
		new = newRuleSet()
	}
	var sc scope = fullScope{old, new}
	if part, ok := groupScope(old, new); ok {
		sc = part
	}
	var c Changes
	redeclared := c.diffSets(old, new, sc)
	for name := range sc.chains() {
		oc, nc := old.Chains[name], new.Chains[name]
		switch {
		case oc == nil && nc == nil:
		case oc == nil:
			c.AddedChains = append(c.AddedChains, nc)
		case nc == nil:
			c.DeletedChains = append(c.DeletedChains, name)
		case !oc.equal(nc) || (len(redeclared) > 0 && nc.refersTo(redeclared)):
			c.ChangedChains = append(c.ChangedChains, nc)
		}
	}
	c.sort()
	return c
}

// scope yields the names Diff compares: chains, sets, and element keys.
type scope interface {
	chains() iter.Seq[string]
	sets() iter.Seq[string]
	elements(set string) iter.Seq[string]
}

// fullScope is everything in either rule set.
type fullScope struct{ old, new *RuleSet }

func (f fullScope) chains() iter.Seq[string] { return union(f.new.Chains, f.old.Chains) }
func (f fullScope) sets() iter.Seq[string]   { return union(f.new.Sets, f.old.Sets) }

func (f fullScope) elements(set string) iter.Seq[string] {
	var o, n map[string]Element
	if s := f.old.Sets[set]; s != nil {
		o = s.Elements
	}
	if s := f.new.Sets[set]; s != nil {
		n = s.Elements
	}
	return union(n, o)
}

// union yields the keys of a, then those of b not in a.
func union[V any](a, b map[string]V) iter.Seq[string] {
	return func(yield func(string) bool) {
		for k := range a {
			if !yield(k) {
				return
			}
		}
		for k := range b {
			if _, ok := a[k]; !ok && !yield(k) {
				return
			}
		}
	}
}

// partScope is what some groups hold.
type partScope struct {
	chainNames, setNames map[string]bool
	keys                 map[string]map[string]bool
}

func (p partScope) chains() iter.Seq[string]             { return maps.Keys(p.chainNames) }
func (p partScope) sets() iter.Seq[string]               { return maps.Keys(p.setNames) }
func (p partScope) elements(set string) iter.Seq[string] { return maps.Keys(p.keys[set]) }

// groupScope is what the groups that differ between old and new hold. It
// fails unless both rule sets were assembled from groups, and when most
// groups differ (then fullScope costs less).
func groupScope(old, new *RuleSet) (partScope, bool) {
	if old.groups == nil || new.groups == nil {
		return partScope{}, false
	}
	var differ []*group
	for k, og := range old.groups {
		if ng := new.groups[k]; ng != og {
			differ = append(differ, og)
			if ng != nil {
				differ = append(differ, ng)
			}
		}
		if len(differ) > len(new.groups)/2+2 {
			return partScope{}, false
		}
	}
	for k, ng := range new.groups {
		if _, ok := old.groups[k]; !ok {
			differ = append(differ, ng)
		}
	}
	p := partScope{chainNames: map[string]bool{}, setNames: map[string]bool{}, keys: map[string]map[string]bool{}}
	for _, g := range differ {
		for name := range g.chains {
			p.chainNames[name] = true
		}
		for name := range g.sets {
			p.setNames[name] = true
		}
		for _, e := range g.elements {
			p.setNames[e.Set] = true
			if p.keys[e.Set] == nil {
				p.keys[e.Set] = map[string]bool{}
			}
			p.keys[e.Set][e.Element.KeyString()] = true
		}
	}
	return p, true
}

// diffSets fills the set and element changes within the scope and returns
// the names of sets that are redeclared (deleted and added again).
func (c *Changes) diffSets(old, new *RuleSet, sc scope) map[string]bool {
	redeclared := map[string]bool{}
	for name := range sc.sets() {
		os, ns := old.Sets[name], new.Sets[name]
		switch {
		case os == nil && ns == nil:
			continue
		case ns == nil:
			c.DeletedSets = append(c.DeletedSets, os)
			continue
		case os == nil:
		case os.sameDecl(ns):
			c.diffElements(os, ns, sc.elements(name))
			continue
		default:
			redeclared[name] = true
			c.DeletedSets = append(c.DeletedSets, os)
		}
		c.AddedSets = append(c.AddedSets, ns)
		for _, e := range ns.Elements {
			c.AddedElements = append(c.AddedElements, SetElement{Set: name, Element: e})
		}
	}
	return redeclared
}

func (c *Changes) diffElements(os, ns *Set, keys iter.Seq[string]) {
	for k := range keys {
		oe, inOld := os.Elements[k]
		ne, inNew := ns.Elements[k]
		if inOld && inNew && oe.Value == ne.Value && oe.Comment == ne.Comment {
			continue
		}
		if inOld {
			c.DeletedElements = append(c.DeletedElements, SetElement{Set: os.Name, Element: oe})
		}
		if inNew {
			c.AddedElements = append(c.AddedElements, SetElement{Set: ns.Name, Element: ne})
		}
	}
}

func (c *Changes) sort() {
	byName := func(a, b *Chain) int { return cmp.Compare(a.Name, b.Name) }
	slices.SortFunc(c.AddedChains, byName)
	slices.SortFunc(c.ChangedChains, byName)
	slices.Sort(c.DeletedChains)
	slices.SortFunc(c.AddedSets, func(a, b *Set) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(c.DeletedSets, func(a, b *Set) int { return cmp.Compare(a.Name, b.Name) })
	byElement := func(a, b SetElement) int {
		return cmp.Or(cmp.Compare(a.Set, b.Set), cmp.Compare(a.Element.KeyString(), b.Element.KeyString()))
	}
	slices.SortFunc(c.AddedElements, byElement)
	slices.SortFunc(c.DeletedElements, byElement)
}

// NFT renders the changes as one `nft -f` transaction, ordered so that
// nothing is deleted while still referenced and nothing is referenced
// before it exists: declare new chains, flush changed and deleted chains,
// delete elements, delete chains, delete sets, declare sets, add rules, add
// elements. The table must exist.
func (c Changes) NFT() string {
	var b strings.Builder
	for _, ch := range c.AddedChains {
		writeChainDecl(&b, ch)
	}
	for _, ch := range c.ChangedChains {
		fmt.Fprintf(&b, "flush chain %s %s %s\n", TableFamily, TableName, ch.Name)
	}
	for _, name := range c.DeletedChains { // so that no deleted chain jumps to another
		fmt.Fprintf(&b, "flush chain %s %s %s\n", TableFamily, TableName, name)
	}
	deleted := map[string]bool{}
	for _, s := range c.DeletedSets {
		deleted[s.Name] = true
		if s.Verdict { // its elements may name chains deleted below
			fmt.Fprintf(&b, "flush map %s %s %s\n", TableFamily, TableName, s.Name)
		}
	}
	for _, e := range c.DeletedElements {
		if !deleted[e.Set] {
			writeElement(&b, "delete", &Set{Name: e.Set}, e.Element)
		}
	}
	for _, name := range c.DeletedChains {
		fmt.Fprintf(&b, "delete chain %s %s %s\n", TableFamily, TableName, name)
	}
	for _, s := range c.DeletedSets {
		fmt.Fprintf(&b, "delete %s %s %s %s\n", setKind(s), TableFamily, TableName, s.Name)
	}
	for _, s := range c.AddedSets {
		writeSetDecl(&b, s)
	}
	for _, ch := range c.AddedChains {
		writeRules(&b, ch)
	}
	for _, ch := range c.ChangedChains {
		writeRules(&b, ch)
	}
	sets := map[string]*Set{}
	for _, e := range c.AddedElements {
		s, ok := sets[e.Set]
		if !ok {
			s = &Set{Name: e.Set, Verdict: e.Element.Value.Kind != ""}
			sets[e.Set] = s
		}
		writeElement(&b, "add", s, e.Element)
	}
	return b.String()
}

func setKind(s *Set) string {
	if s.Verdict {
		return "map"
	}
	return "set"
}
