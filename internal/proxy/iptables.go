package proxy

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// iptTableNames are the tables the proxy writes, in the order it writes
// them.
func iptTableNames() []string { return []string{"nat", "filter"} }

// iptApplier loads rule sets with iptables-restore --noflush, one
// transaction per table that touches only the proxy's chains: after a
// full load, only chains whose rules changed are rewritten and chains no
// longer needed are deleted.
type iptApplier struct {
	cmd commander
	// last is the translation loaded last; nil when the kernel state is
	// unknown.
	last *iptRules
}

func (a *iptApplier) apply(ctx context.Context, old, new *rules.RuleSet) error {
	tr := translateIPTables(new)
	prev := a.last
	if old == nil || prev == nil {
		existing, _, err := a.ownChains(ctx)
		if err != nil {
			return err
		}
		prev = kernelChains(existing)
	}
	a.last = nil
	if script := iptRestoreScript(prev, tr); script != "" {
		if _, err := a.cmd.run(ctx, script, "iptables-restore", "-w", "--noflush"); err != nil {
			return fmt.Errorf("loading iptables rules: %w", err)
		}
	}
	if old == nil {
		if err := a.ensureHooks(ctx, tr); err != nil {
			return err
		}
	}
	a.last = tr
	return nil
}

// kernelChains describes chains found in the kernel with unknown rules,
// so that iptRestoreScript rewrites or deletes every one of them.
func kernelChains(existing map[string][]string) *iptRules {
	out := &iptRules{tables: map[string]*iptTable{}}
	for table, chains := range existing {
		t := &iptTable{chains: slices.Sorted(slices.Values(chains)), rules: map[string][]string{}}
		for _, c := range chains {
			t.rules[c] = []string{"# unknown"}
		}
		out.tables[table] = t
	}
	return out
}

// iptRestoreScript turns the kernel from prev into next: it declares (and
// so flushes) and refills every chain whose rules differ, and flushes and
// deletes the chains next lacks. Unchanged chains are not mentioned.
func iptRestoreScript(prev, next *iptRules) string {
	var b strings.Builder
	for _, table := range iptTableNames() {
		p, n := prev.tables[table], next.tables[table]
		if p == nil {
			p = &iptTable{}
		}
		if n == nil {
			n = &iptTable{}
		}
		var changed, stale []string
		for _, c := range n.chains {
			_, known := slices.BinarySearch(p.chains, c)
			if !known || !slices.Equal(p.rules[c], n.rules[c]) {
				changed = append(changed, c)
			}
		}
		for _, c := range p.chains {
			if _, found := slices.BinarySearch(n.chains, c); !found {
				stale = append(stale, c)
			}
		}
		if len(changed)+len(stale) == 0 {
			continue
		}
		b.WriteString("*" + table + "\n")
		for _, c := range append(slices.Clone(changed), stale...) {
			b.WriteString(":" + c + " - [0:0]\n")
		}
		for _, c := range changed {
			for _, r := range n.rules[c] {
				b.WriteString(r + "\n")
			}
		}
		for _, c := range stale {
			b.WriteString("-X " + c + "\n")
		}
		b.WriteString("COMMIT\n")
	}
	return b.String()
}

// iptHook is a jump from a built-in chain to one of the proxy's.
type iptHook struct{ table, builtin, chain string }

// ownChains lists the proxy's chains in the kernel, by table, and the
// jumps to them from built-in chains.
func (a *iptApplier) ownChains(ctx context.Context) (map[string][]string, []iptHook, error) {
	out := map[string][]string{}
	var hooks []iptHook
	for _, table := range iptTableNames() {
		data, err := a.cmd.run(ctx, "", "iptables-save", "-t", table)
		if err != nil {
			return nil, nil, fmt.Errorf("listing iptables chains: %w", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if name, ok := strings.CutPrefix(line, ":"+iptChainPrefix); ok {
				name, _, _ = strings.Cut(name, " ")
				out[table] = append(out[table], iptChainPrefix+name)
				continue
			}
			f := strings.Fields(line)
			if len(f) > 2 && f[0] == "-A" && !strings.HasPrefix(f[1], iptChainPrefix) &&
				f[len(f)-2] == "-j" && strings.HasPrefix(f[len(f)-1], iptChainPrefix) {
				hooks = append(hooks, iptHook{table, f[1], f[len(f)-1]})
			}
		}
	}
	return out, hooks, nil
}

// hookRule is the rule in a built-in chain that enters the proxy's chain.
func hookRule(chain string) []string {
	return []string{"-m", "comment", "--comment", "skiff service proxy", "-j", chain}
}

// ensureHooks inserts the jumps from the built-in chains, once each.
func (a *iptApplier) ensureHooks(ctx context.Context, tr *iptRules) error {
	for _, table := range iptTableNames() {
		t := tr.tables[table]
		if t == nil {
			continue
		}
		for _, builtin := range slices.Sorted(maps.Keys(t.hooks)) {
			spec := hookRule(t.hooks[builtin])
			check := append([]string{"-w", "-t", table, "-C", builtin}, spec...)
			if _, err := a.cmd.run(ctx, "", "iptables", check...); err == nil {
				continue
			}
			insert := append([]string{"-w", "-t", table, "-I", builtin, "1"}, spec...)
			if _, err := a.cmd.run(ctx, "", "iptables", insert...); err != nil {
				return fmt.Errorf("hooking %s %s: %w", table, builtin, err)
			}
		}
	}
	return nil
}

// cleanup removes the jumps from the built-in chains, then every chain of
// the proxy.
func (a *iptApplier) cleanup(ctx context.Context) error {
	a.last = nil
	existing, hooks, err := a.ownChains(ctx)
	if err != nil {
		return err
	}
	for _, h := range hooks {
		del := append([]string{"-w", "-t", h.table, "-D", h.builtin}, hookRule(h.chain)...)
		if _, err := a.cmd.run(ctx, "", "iptables", del...); err != nil {
			return fmt.Errorf("unhooking %s %s: %w", h.table, h.builtin, err)
		}
	}
	script := iptRestoreScript(kernelChains(existing), &iptRules{tables: map[string]*iptTable{}})
	if script == "" {
		return nil
	}
	if _, err := a.cmd.run(ctx, script, "iptables-restore", "-w", "--noflush"); err != nil {
		return fmt.Errorf("removing iptables chains: %w", err)
	}
	return nil
}
