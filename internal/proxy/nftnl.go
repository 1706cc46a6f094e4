package proxy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/google/nftables"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// nlApplier programs rule sets over netlink (github.com/google/nftables):
// a full load replaces the table in one batch; an incremental sync sends
// only rules.Diff, also as one batch. Unlike `nft -f`, nothing re-reads
// the table, so an update costs what changed.
type nlApplier struct {
	// netns names the network namespace to program; "" is the current one.
	netns string
}

// Socket buffers for large batches: the kernel refuses a batch larger
// than the send buffer and drops acknowledgements beyond the receive
// buffer. Both are limits, not allocations.
const (
	nlSendBuffer = 1 << 28
	nlRecvBuffer = 1 << 28
	// nlElementChunk bounds the elements of one netlink message, whose
	// nested element list must stay under 64 KiB.
	nlElementChunk = 100
)

func (a nlApplier) apply(_ context.Context, old, new *rules.RuleSet) error {
	return a.run(func(b *nlBatch) error {
		if old == nil {
			return b.full(new)
		}
		changes := rules.Diff(old, new)
		if changes.Empty() {
			return errNothingToDo
		}
		return b.changes(changes, old, new)
	})
}

func (a nlApplier) cleanup(context.Context) error {
	err := a.run(func(b *nlBatch) error {
		b.conn.AddTable(b.table) // so that deleting an absent table succeeds
		b.conn.DelTable(b.table)
		return nil
	})
	if err != nil {
		return fmt.Errorf("removing the nftables table: %w", err)
	}
	return nil
}

// available reports whether nftables answers over netlink.
func (a nlApplier) available() bool {
	return a.run(func(b *nlBatch) error {
		_, err := b.conn.ListTablesOfFamily(nftables.TableFamilyINet)
		if err != nil {
			return err
		}
		return errNothingToDo
	}) == nil
}

// errNothingToDo tells run that the batch is empty.
var errNothingToDo = errors.New("nothing to do")

// run opens a connection in the namespace, lets fill queue messages and
// sends them as one batch.
func (a nlApplier) run(fill func(*nlBatch) error) error {
	opts := []nftables.ConnOption{nftables.WithSockOptions(setBuffers)}
	if a.netns != "" {
		f, err := os.Open(filepath.Join("/var/run/netns", a.netns))
		if err != nil {
			return fmt.Errorf("opening network namespace: %w", err)
		}
		defer f.Close()
		opts = append(opts, nftables.WithNetNSFd(int(f.Fd())))
	}
	conn, err := nftables.New(opts...)
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	b := &nlBatch{conn: conn, table: &nftables.Table{Family: nftables.TableFamilyINet, Name: rules.TableName},
		sets: map[string]*nftables.Set{}}
	if err := fill(b); err != nil {
		if errors.Is(err, errNothingToDo) {
			return nil
		}
		return err
	}
	if err := conn.Flush(); err != nil {
		return fmt.Errorf("netlink batch: %w", err)
	}
	return nil
}

// setBuffers raises the socket buffers beyond the sysctl limits (we are
// root), falling back to the limited calls.
func setBuffers(c *netlink.Conn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	cerr := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, nlSendBuffer)
		if serr == nil {
			serr = syscall.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, nlRecvBuffer)
		}
	})
	if cerr == nil && serr == nil {
		return nil
	}
	if err := c.SetWriteBuffer(nlSendBuffer); err != nil {
		return err
	}
	return c.SetReadBuffer(nlRecvBuffer)
}

// nlBatch queues the messages of one transaction.
type nlBatch struct {
	conn  *nftables.Conn
	table *nftables.Table
	// sets holds the sets declared in this batch, by name, so that their
	// elements refer to them by batch ID.
	sets map[string]*nftables.Set
}

// full replaces the table with r.
func (b *nlBatch) full(r *rules.RuleSet) error {
	b.conn.AddTable(b.table)
	b.conn.DelTable(b.table)
	b.conn.AddTable(b.table)
	setNames := slices.Sorted(maps.Keys(r.Sets))
	for _, name := range setNames {
		if err := b.addSet(r.Sets[name]); err != nil {
			return err
		}
	}
	chains := slices.Sorted(maps.Keys(r.Chains))
	for _, name := range chains {
		if err := b.addChain(r.Chains[name]); err != nil {
			return err
		}
	}
	for _, name := range chains {
		if err := b.addRules(r.Chains[name]); err != nil {
			return err
		}
	}
	for _, name := range setNames {
		s := r.Sets[name]
		elems := make([]rules.SetElement, 0, len(s.Elements))
		for _, k := range slices.Sorted(maps.Keys(s.Elements)) {
			elems = append(elems, rules.SetElement{Set: name, Element: s.Elements[k]})
		}
		if err := b.elements(elems, r, true); err != nil {
			return err
		}
	}
	return nil
}

// changes queues c in the order Changes.NFT documents: nothing is deleted
// while referenced, nothing referenced before it exists.
func (b *nlBatch) changes(c rules.Changes, old, new *rules.RuleSet) error {
	for _, ch := range c.AddedChains {
		if err := b.addChain(ch); err != nil {
			return err
		}
	}
	for _, ch := range c.ChangedChains {
		b.conn.FlushChain(b.chain(ch.Name))
	}
	for _, name := range c.DeletedChains {
		b.conn.FlushChain(b.chain(name))
	}
	deleted := map[string]bool{}
	for _, s := range c.DeletedSets {
		deleted[s.Name] = true
		if s.Verdict {
			b.conn.FlushSet(&nftables.Set{Table: b.table, Name: s.Name})
		}
	}
	var dels []rules.SetElement
	for _, e := range c.DeletedElements {
		if !deleted[e.Set] {
			dels = append(dels, e)
		}
	}
	if err := b.elements(dels, old, false); err != nil {
		return err
	}
	for _, name := range c.DeletedChains {
		b.conn.DelChain(b.chain(name))
	}
	for _, s := range c.DeletedSets {
		b.conn.DelSet(&nftables.Set{Table: b.table, Name: s.Name})
	}
	for _, s := range c.AddedSets {
		if err := b.addSet(s); err != nil {
			return err
		}
	}
	for _, ch := range slices.Concat(c.AddedChains, c.ChangedChains) {
		if err := b.addRules(ch); err != nil {
			return err
		}
	}
	return b.elements(c.AddedElements, new, true)
}

func (b *nlBatch) chain(name string) *nftables.Chain {
	return &nftables.Chain{Table: b.table, Name: name}
}

func (b *nlBatch) addSet(s *rules.Set) error {
	set, err := nlSet(b.table, s)
	if err != nil {
		return err
	}
	if err := b.conn.AddSet(set, nil); err != nil {
		return fmt.Errorf("set %s: %w", s.Name, err)
	}
	b.sets[s.Name] = set
	return nil
}

// nlHook maps the model's hook names to netfilter hooks.
func nlHook(name string) (*nftables.ChainHook, bool) {
	switch name {
	case "prerouting":
		return nftables.ChainHookPrerouting, true
	case "input":
		return nftables.ChainHookInput, true
	case "forward":
		return nftables.ChainHookForward, true
	case "output":
		return nftables.ChainHookOutput, true
	case "postrouting":
		return nftables.ChainHookPostrouting, true
	}
	return nil, false
}

func (b *nlBatch) addChain(c *rules.Chain) error {
	ch := b.chain(c.Name)
	if h := c.Hook; h != nil {
		hook, ok := nlHook(h.Hook)
		if !ok {
			return fmt.Errorf("chain %s: unknown hook %q", c.Name, h.Hook)
		}
		ch.Type, ch.Hooknum = nftables.ChainType(h.Type), hook
		ch.Priority = nftables.ChainPriorityRef(nftables.ChainPriority(h.Priority))
	}
	b.conn.AddChain(ch)
	return nil
}

// addRules appends the chain's rules, declaring the anonymous maps they
// use just before them.
func (b *nlBatch) addRules(c *rules.Chain) error {
	ch := b.chain(c.Name)
	for i, r := range c.Rules {
		re := ruleExprs{anonMap: b.anonMap, dnatMap: b.dnatMap}
		if err := re.build(r.Exprs); err != nil {
			return fmt.Errorf("chain %s rule %d: %w", c.Name, i, err)
		}
		nr := &nftables.Rule{Table: b.table, Chain: ch, Exprs: re.out}
		if r.Comment != "" {
			nr.UserData = userdata.AppendString(nil, userdata.TypeComment, r.Comment)
		}
		b.conn.AddRule(nr)
	}
	return nil
}

func (b *nlBatch) anonMap(targets []string) (*nftables.Set, error) {
	set, elems := anonVerdictMap(b.table, targets)
	return b.addAnon(set, elems)
}

func (b *nlBatch) dnatMap(backends []rules.Backend) (*nftables.Set, error) {
	set, elems, err := anonDNATMap(b.table, backends)
	if err != nil {
		return nil, err
	}
	return b.addAnon(set, elems)
}

// addAnon declares an anonymous map and its elements in the batch.
func (b *nlBatch) addAnon(set *nftables.Set, elems []nftables.SetElement) (*nftables.Set, error) {
	first := elems[:min(len(elems), nlElementChunk)]
	if err := b.conn.AddSet(set, first); err != nil {
		return nil, fmt.Errorf("anonymous map: %w", err)
	}
	for rest := elems[len(first):]; len(rest) > 0; rest = rest[min(len(rest), nlElementChunk):] {
		if err := b.conn.SetAddElements(set, rest[:min(len(rest), nlElementChunk)]); err != nil {
			return nil, fmt.Errorf("anonymous map: %w", err)
		}
	}
	return set, nil
}

// elements adds (add) or deletes elements, in messages of at most
// nlElementChunk elements of one set; r declares the sets.
func (b *nlBatch) elements(elems []rules.SetElement, r *rules.RuleSet, add bool) error {
	for len(elems) > 0 {
		name := elems[0].Set
		decl := r.Sets[name]
		if decl == nil {
			return fmt.Errorf("element of undeclared set %s", name)
		}
		set := b.sets[name]
		if set == nil {
			set = &nftables.Set{Table: b.table, Name: name}
		}
		var chunk []nftables.SetElement
		for len(elems) > 0 && elems[0].Set == name && len(chunk) < nlElementChunk {
			el, err := nlElement(decl.KeyType, elems[0].Element, add)
			if err != nil {
				return fmt.Errorf("set %s: %w", name, err)
			}
			chunk = append(chunk, el)
			elems = elems[1:]
		}
		var err error
		if add {
			err = b.conn.SetAddElements(set, chunk)
		} else {
			err = b.conn.SetDeleteElements(set, chunk)
		}
		if err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
	}
	return nil
}
