package proxy

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// iptDropMark marks packets that the model drops in a nat chain, where
// iptables allows no DROP; the filter hook chains drop them.
const iptDropMark uint32 = 0x8000

// iptChainPrefix starts the name of every iptables chain the proxy owns.
const iptChainPrefix = "SKIFF-"

// iptTable is the translation of a RuleSet for one iptables table.
type iptTable struct {
	// chains are the chain names, sorted.
	chains []string
	// rules are each chain's rules as iptables-restore lines ("-A CHAIN ...").
	rules map[string][]string
	// hooks maps built-in chains (PREROUTING, ...) to the chain they jump to.
	hooks map[string]string
}

// iptRules is a RuleSet translated to iptables, by table name.
type iptRules struct {
	tables   map[string]*iptTable
	warnings []string
}

// iptChainName maps a model chain name to a valid iptables chain name of
// at most 28 characters: the upper-cased name when it fits, else a prefix
// naming the kind and a hash.
func iptChainName(name string) string {
	if up := iptChainPrefix + strings.ToUpper(name); len(up) <= 28 && !strings.ContainsAny(name, "/._:") {
		return up
	}
	kind, _, _ := strings.Cut(name, "-")
	kind = strings.ToUpper(kind)
	if len(kind) > 3 {
		kind = kind[:3]
	}
	return iptChainPrefix + kind + "-" + shortHash(name)
}

// iptRecentName names the recent-match list of an affinity set.
func iptRecentName(set string) string { return "skiff-" + shortHash(set) }

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:16]
}

// translateIPTables turns the model into iptables tables: chains reached
// from nat hooks go to the nat table, those reached from filter hooks to
// the filter table. It is pure; input it cannot express is reported in
// warnings.
func translateIPTables(r *rules.RuleSet) *iptRules {
	out := &iptRules{tables: map[string]*iptTable{}}
	for table, chains := range chainsByTable(r) {
		t := &iptTable{rules: map[string][]string{}, hooks: map[string]string{}}
		out.tables[table] = t
		for _, name := range chains {
			c := r.Chains[name]
			ipt := iptChainName(name)
			t.chains = append(t.chains, ipt)
			tr := ruleTranslator{rs: r, table: table, warn: &out.warnings}
			if c.Hook != nil {
				t.hooks[strings.ToUpper(c.Hook.Hook)] = ipt
				if table == "filter" {
					t.rules[ipt] = append(t.rules[ipt], fmt.Sprintf("-A %s -m mark --mark 0x%x/0x%x -j DROP", ipt, iptDropMark, iptDropMark))
				}
			}
			for _, rule := range c.Rules {
				for _, line := range tr.rule(rule) {
					t.rules[ipt] = append(t.rules[ipt], "-A "+ipt+" "+line)
				}
			}
		}
		slices.Sort(t.chains)
	}
	return out
}

// chainsByTable assigns chains to tables by what reaches them from the
// base chains' hooks; a chain reached from both goes to both.
func chainsByTable(r *rules.RuleSet) map[string][]string {
	seen := map[string]map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(r.Chains)) {
		c := r.Chains[name]
		if c.Hook == nil {
			continue
		}
		if seen[c.Hook.Type] == nil {
			seen[c.Hook.Type] = map[string]bool{}
		}
		queue := []string{name}
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			if seen[c.Hook.Type][n] || r.Chains[n] == nil {
				continue
			}
			seen[c.Hook.Type][n] = true
			queue = append(queue, chainTargets(r, r.Chains[n])...)
		}
	}
	out := map[string][]string{}
	for table, names := range seen {
		out[table] = slices.Sorted(maps.Keys(names))
	}
	return out
}

// chainTargets lists the chains a chain jumps or goes to.
func chainTargets(r *rules.RuleSet, c *rules.Chain) []string {
	var out []string
	for _, rule := range c.Rules {
		for _, e := range rule.Exprs {
			switch x := e.(type) {
			case rules.Verdict:
				if x.Chain != "" {
					out = append(out, x.Chain)
				}
			case rules.NumgenVMap:
				out = append(out, x.Targets...)
			case rules.VMap:
				if s := r.Sets[x.Map]; s != nil {
					for _, el := range s.Elements {
						if el.Value.Chain != "" {
							out = append(out, el.Value.Chain)
						}
					}
				}
			}
		}
	}
	return out
}

// iptRule is a rule being built: its matches and its target.
type iptRule struct {
	matches []string
	target  string
}

func (r iptRule) with(matches ...string) iptRule {
	r.matches = append(slices.Clip(r.matches), matches...)
	return r
}

func (r iptRule) String() string {
	parts := slices.Clone(r.matches)
	if r.target != "" {
		parts = append(parts, r.target)
	}
	return strings.Join(parts, " ")
}

// ruleTranslator translates the rules of one chain.
type ruleTranslator struct {
	rs    *rules.RuleSet
	table string
	warn  *[]string
}

// rule translates one model rule into one or more iptables rules: sets
// and verdict maps expand into a rule per element.
func (t ruleTranslator) rule(rule rules.Rule) []string {
	out := []iptRule{{}}
	if rule.Comment != "" {
		out[0].matches = []string{"-m comment --comment " + strconv.Quote(rule.Comment)}
	}
	for _, e := range rule.Exprs {
		out = t.expr(out, e)
	}
	lines := make([]string, 0, len(out))
	for _, r := range out {
		lines = append(lines, r.String())
	}
	return lines
}

// expr extends every partial rule with one expression.
func (t ruleTranslator) expr(in []iptRule, e rules.Expr) []iptRule {
	add := func(matches ...string) []iptRule {
		for i := range in {
			in[i] = in[i].with(matches...)
		}
		return in
	}
	target := func(tg string) []iptRule {
		for i := range in {
			in[i].target = tg
		}
		return in
	}
	switch x := e.(type) {
	case rules.Match:
		return t.match(in, x)
	case rules.FibLocal:
		if x.Field == rules.FieldSrcAddr {
			return add("-m addrtype --src-type LOCAL")
		}
		return add("-m addrtype --dst-type LOCAL")
	case rules.CtStateNew:
		return add("-m conntrack --ctstate NEW")
	case rules.MarkClear:
		return add(fmt.Sprintf("-m mark ! --mark 0x%x/0x%x", x.Mask, x.Mask))
	case rules.SetMark:
		op := "--or-mark"
		if x.Op == rules.MarkXor {
			op = "--xor-mark"
		}
		return target(fmt.Sprintf("-j MARK %s 0x%x", op, x.Bits))
	case rules.Masquerade:
		if x.FullyRandom {
			return target("-j MASQUERADE --random-fully")
		}
		return target("-j MASQUERADE")
	case rules.DNAT:
		return target(fmt.Sprintf("-j DNAT --to-destination %s:%d", x.Addr, x.Port))
	case rules.UpdateSet:
		return add("-m recent --name " + iptRecentName(x.Set) + " --set --rsource")
	case rules.Reject:
		if x.TCPReset {
			return target("-j REJECT --reject-with tcp-reset")
		}
		return target("-j REJECT")
	case rules.Verdict:
		return t.verdict(in, x)
	case rules.VMap:
		return t.vmap(in, x)
	case rules.NumgenVMap:
		return t.numgen(in, x)
	}
	*t.warn = append(*t.warn, fmt.Sprintf("iptables: cannot express %q", e.NFT()))
	return in
}

// verdict sets the target. A drop in the nat table marks the packet for
// the filter chains to drop, and returns.
func (t ruleTranslator) verdict(in []iptRule, v rules.Verdict) []iptRule {
	var tg string
	switch v.Kind {
	case rules.Jump:
		tg = "-j " + iptChainName(v.Chain)
	case rules.Goto:
		tg = "-g " + iptChainName(v.Chain)
	case rules.Accept:
		tg = "-j ACCEPT"
	case rules.Return:
		tg = "-j RETURN"
	case rules.Drop:
		if t.table != "nat" {
			tg = "-j DROP"
			break
		}
		var out []iptRule
		for _, r := range in {
			mark := r
			mark.target = fmt.Sprintf("-j MARK --or-mark 0x%x", iptDropMark)
			ret := r
			ret.target = "-j RETURN"
			out = append(out, mark, ret)
		}
		return out
	}
	for i := range in {
		in[i].target = tg
	}
	return in
}

// fieldFlag is the iptables option matching a field.
func fieldFlag(f rules.Field) string {
	switch f {
	case rules.FieldSrcAddr:
		return "-s"
	case rules.FieldDstAddr:
		return "-d"
	case rules.FieldL4Proto:
		return "-p"
	}
	return "--dport"
}

// match translates a comparison: a plain value, an anonymous set
// ("{ a, b }"), a static named set (one rule per element) or a dynamic
// affinity set (the recent match).
func (t ruleTranslator) match(in []iptRule, m rules.Match) []iptRule {
	flag := fieldFlag(m.Field)
	neg := ""
	if m.Negate {
		neg = "! "
	}
	var values []string
	switch {
	case strings.HasPrefix(m.Value, "@"):
		s := t.rs.Sets[m.Value[1:]]
		if s == nil {
			*t.warn = append(*t.warn, "iptables: unknown set "+m.Value)
			return nil
		}
		if slices.Contains(s.Flags, "dynamic") {
			return t.expandEach(in, []string{fmt.Sprintf("-m recent %s--name %s --rcheck --seconds %d --reap --rsource",
				neg, iptRecentName(s.Name), s.TimeoutSeconds)})
		}
		for _, k := range slices.Sorted(maps.Keys(s.Elements)) {
			values = append(values, k)
		}
	case strings.HasPrefix(m.Value, "{"):
		for _, v := range strings.Split(strings.Trim(m.Value, "{} "), ",") {
			values = append(values, strings.TrimSpace(v))
		}
	default:
		values = []string{m.Value}
	}
	if m.Negate && len(values) > 1 {
		*t.warn = append(*t.warn, fmt.Sprintf("iptables: %s != %s uses only %s", m.Field, m.Value, values[0]))
		values = values[:1]
	}
	alts := make([]string, len(values))
	for i, v := range values {
		alts[i] = neg + flag + " " + v
	}
	return t.expandEach(in, alts)
}

// expandEach returns every partial rule extended with each alternative.
func (t ruleTranslator) expandEach(in []iptRule, alts []string) []iptRule {
	out := make([]iptRule, 0, len(in)*len(alts))
	for _, r := range in {
		for _, a := range alts {
			out = append(out, r.with(a))
		}
	}
	return out
}

// vmap expands a verdict map into one rule per element, in key order.
func (t ruleTranslator) vmap(in []iptRule, v rules.VMap) []iptRule {
	s := t.rs.Sets[v.Map]
	if s == nil {
		return nil
	}
	var out []iptRule
	for _, k := range slices.Sorted(maps.Keys(s.Elements)) {
		el := s.Elements[k]
		var matches []string
		proto := ""
		for i, f := range v.Key {
			val := el.Key[i]
			switch f {
			case rules.FieldL4Proto:
				proto = val
				matches = append(matches, "-p "+val)
			case rules.FieldDstPort:
				matches = append(matches, "-m "+proto+" --dport "+val)
			default:
				matches = append(matches, fieldFlag(f)+" "+val)
			}
		}
		if el.Comment != "" {
			matches = append(matches, "-m comment --comment "+strconv.Quote(el.Comment))
		}
		for _, r := range in {
			out = append(out, t.verdict([]iptRule{r.with(matches...)}, el.Value)...)
		}
	}
	return out
}

// numgen spreads new connections over the targets with statistic
// matches: the i-th of n rules matches with probability 1/(n-i).
func (t ruleTranslator) numgen(in []iptRule, n rules.NumgenVMap) []iptRule {
	var out []iptRule
	for _, r := range in {
		for i, target := range n.Targets {
			alt := r
			if left := len(n.Targets) - i; left > 1 {
				alt = r.with(fmt.Sprintf("-m statistic --mode random --probability %.10f", 1/float64(left)))
			}
			alt.target = "-g " + iptChainName(target)
			out = append(out, alt)
		}
	}
	return out
}
