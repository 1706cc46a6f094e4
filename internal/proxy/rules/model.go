package rules

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// The table the proxy owns.
const (
	TableFamily = "inet"
	TableName   = "skiff-proxy"
)

// RuleSet models the proxy's nftables table. It is built by Compute and
// must not be modified afterwards: Diff relies on it being a value.
type RuleSet struct {
	// Chains by name.
	Chains map[string]*Chain
	// Sets and verdict maps by name.
	Sets map[string]*Set
	// HealthCheckNodePorts lists, by "namespace/name", the health check
	// node port of each LoadBalancer Service with externalTrafficPolicy
	// Local. The applier serves health checks there; no rule refers to it.
	HealthCheckNodePorts map[string]int32
	// Warnings lists input that was ignored, such as unparsable addresses.
	Warnings []string

	// groups are the parts the RuleSet was assembled from, by Service
	// ("" for the base); nil for a RuleSet built by hand.
	groups map[string]*group
	// conflicts are the warnings about map keys claimed by two Services.
	conflicts []string
	// hairpinRefs counts, by key, the groups holding each element of the
	// hairpin set, which Services with a common endpoint share.
	hairpinRefs map[string]int
}

// Chain is an nftables chain and its rules, in order.
type Chain struct {
	Name string
	// Hook attaches a base chain to a netfilter hook; nil for a regular
	// chain reached only by jump and goto.
	Hook  *Hook
	Rules []Rule

	// text caches the rendered rules (see rulesText). Compute fills it,
	// which is one reason a computed RuleSet must not be modified.
	text string
}

// Hook is the attachment of a base chain.
type Hook struct {
	Type     string // "nat" or "filter"
	Hook     string // "prerouting", "input", "forward", "output", "postrouting"
	Priority int
}

// Rule is a sequence of expressions with an optional comment.
type Rule struct {
	Exprs   []Expr
	Comment string
}

// Set is an nftables set or, when Verdict is set, a verdict map.
type Set struct {
	Name string
	// KeyType lists the types concatenated in keys, e.g. ipv4_addr,
	// inet_proto, inet_service.
	KeyType []string
	// Verdict makes the set a map from keys to verdicts.
	Verdict bool
	// Flags such as "dynamic" and "timeout".
	Flags []string
	// TimeoutSeconds is the default lifetime of elements; 0 for none.
	TimeoutSeconds int32
	Comment        string
	// Elements by KeyString.
	Elements map[string]Element
}

// Element is a member of a Set: a key with, in a verdict map, a verdict.
type Element struct {
	// Key holds one value per KeyType entry, in nft syntax.
	Key     []string
	Value   Verdict
	Comment string
}

// KeyString is the key as nft writes it, which also indexes Set.Elements.
func (e Element) KeyString() string { return strings.Join(e.Key, " . ") }

func newRuleSet() *RuleSet {
	return &RuleSet{
		Chains:               map[string]*Chain{},
		Sets:                 map[string]*Set{},
		HealthCheckNodePorts: map[string]int32{},
	}
}

// NFT renders the whole table as an `nft -f` script that replaces any
// previous version of the table atomically. The output is deterministic.
func (r *RuleSet) NFT() string {
	var b strings.Builder
	b.Grow(r.sizeHint())
	prefix := TableFamily + " " + TableName
	fmt.Fprintf(&b, "add table %s\ndelete table %s\nadd table %s\n", prefix, prefix, prefix)
	for _, svc := range slices.Sorted(maps.Keys(r.HealthCheckNodePorts)) {
		fmt.Fprintf(&b, "# health check node port %s %d\n", svc, r.HealthCheckNodePorts[svc])
	}
	for _, name := range slices.Sorted(maps.Keys(r.Sets)) {
		writeSetDecl(&b, r.Sets[name])
	}
	chains := slices.Sorted(maps.Keys(r.Chains))
	for _, name := range chains {
		writeChainDecl(&b, r.Chains[name])
	}
	for _, name := range chains {
		writeRules(&b, r.Chains[name])
	}
	for _, name := range slices.Sorted(maps.Keys(r.Sets)) {
		s := r.Sets[name]
		for _, k := range slices.Sorted(maps.Keys(s.Elements)) {
			writeElement(&b, "add", s, s.Elements[k])
		}
	}
	return b.String()
}

func writeSetDecl(b *strings.Builder, s *Set) {
	kind, typ := setKind(s), strings.Join(s.KeyType, " . ")
	if s.Verdict {
		typ += " : verdict"
	}
	fmt.Fprintf(b, "add %s %s %s %s { type %s ;", kind, TableFamily, TableName, s.Name, typ)
	if len(s.Flags) > 0 {
		fmt.Fprintf(b, " flags %s ;", strings.Join(s.Flags, ","))
	}
	if s.TimeoutSeconds > 0 {
		fmt.Fprintf(b, " timeout %ds ;", s.TimeoutSeconds)
	}
	if s.Comment != "" {
		fmt.Fprintf(b, " comment %q ;", s.Comment)
	}
	b.WriteString(" }\n")
}

// sizeHint estimates the length of NFT's output.
func (r *RuleSet) sizeHint() int {
	n := 0
	for _, c := range r.Chains {
		n += 2*len(c.Name) + 32 + len(c.rulesText())
	}
	for _, s := range r.Sets {
		n += 128 + 160*len(s.Elements)
	}
	return n
}

func writeChainDecl(b *strings.Builder, c *Chain) {
	b.WriteString("add chain " + TableFamily + " " + TableName + " ")
	b.WriteString(c.Name)
	if h := c.Hook; h != nil {
		fmt.Fprintf(b, " { type %s hook %s priority %d ; }", h.Type, h.Hook, h.Priority)
	}
	b.WriteString("\n")
}

func writeRules(b *strings.Builder, c *Chain) { b.WriteString(c.rulesText()) }

// rulesText renders the chain's rules as `add rule` lines.
func (c *Chain) rulesText() string {
	if c.text != "" || len(c.Rules) == 0 {
		return c.text
	}
	var b strings.Builder
	prefix := "add rule " + TableFamily + " " + TableName + " " + c.Name
	for _, r := range c.Rules {
		b.WriteString(prefix)
		for _, e := range r.Exprs {
			b.WriteByte(' ')
			b.WriteString(e.NFT())
		}
		if r.Comment != "" {
			b.WriteString(" comment ")
			b.WriteString(strconv.Quote(r.Comment))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func writeElement(b *strings.Builder, verb string, s *Set, e Element) {
	fmt.Fprintf(b, "%s element %s %s %s { %s", verb, TableFamily, TableName, s.Name, e.KeyString())
	if verb == "add" {
		if e.Comment != "" {
			fmt.Fprintf(b, " comment %q", e.Comment)
		}
		if s.Verdict {
			b.WriteString(" : " + e.Value.NFT())
		}
	}
	b.WriteString(" }\n")
}

// equal reports whether two chains have the same hook and render the
// same rules.
func (c *Chain) equal(o *Chain) bool {
	if (c.Hook == nil) != (o.Hook == nil) || (c.Hook != nil && *c.Hook != *o.Hook) {
		return false
	}
	return c.rulesText() == o.rulesText()
}

// sameDecl reports whether two sets are declared alike (elements aside).
func (s *Set) sameDecl(o *Set) bool {
	return s.Verdict == o.Verdict && s.TimeoutSeconds == o.TimeoutSeconds &&
		s.Comment == o.Comment && slices.Equal(s.KeyType, o.KeyType) &&
		slices.Equal(s.Flags, o.Flags)
}

// refersTo reports whether any rule of the chain uses one of the sets.
func (c *Chain) refersTo(sets map[string]bool) bool {
	for _, r := range c.Rules {
		for _, e := range r.Exprs {
			for _, name := range setRefs(e) {
				if sets[name] {
					return true
				}
			}
		}
	}
	return false
}
