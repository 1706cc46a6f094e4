package rules

import (
	"fmt"
	"strconv"
	"strings"
)

// Expr is one expression of a rule: a match, a statement or a verdict.
// The concrete types below are the whole vocabulary the proxy needs; an
// applier that speaks netlink switches on them.
type Expr interface {
	// NFT renders the expression in nft(8) syntax.
	NFT() string
}

// Field names a packet field that rules match on or use as a map key.
type Field string

// The packet fields used by the proxy.
const (
	FieldSrcAddr Field = "ip saddr"
	FieldDstAddr Field = "ip daddr"
	FieldL4Proto Field = "meta l4proto"
	FieldDstPort Field = "th dport"
)

// Match compares a packet field with a value: an address, a prefix, a
// protocol name, a port number or a set reference ("@name").
type Match struct {
	Field  Field
	Negate bool
	Value  string
}

// NFT implements Expr.
func (m Match) NFT() string {
	if m.Negate {
		return string(m.Field) + " != " + m.Value
	}
	return string(m.Field) + " " + m.Value
}

// FibLocal matches packets whose address in Field (FieldSrcAddr or
// FieldDstAddr) is an address of this node.
type FibLocal struct {
	Field Field
}

// NFT implements Expr.
func (f FibLocal) NFT() string {
	if f.Field == FieldSrcAddr {
		return "fib saddr type local"
	}
	return "fib daddr type local"
}

// CtStateNew matches the first packet of a connection.
type CtStateNew struct{}

// NFT implements Expr.
func (CtStateNew) NFT() string { return "ct state new" }

// CtStatusDNAT matches packets of connections whose destination was
// rewritten by DNAT.
type CtStatusDNAT struct{}

// NFT implements Expr.
func (CtStatusDNAT) NFT() string { return "ct status dnat" }

// InSet matches packets whose concatenated Key fields are in the set Set.
type InSet struct {
	Key []Field
	Set string
}

// NFT implements Expr.
func (s InSet) NFT() string { return joinFields(s.Key) + " @" + s.Set }

// joinFields renders a concatenation of fields.
func joinFields(fields []Field) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = string(f)
	}
	return strings.Join(parts, " . ")
}

// MarkClear matches packets whose mark has none of the Mask bits set.
type MarkClear struct {
	Mask uint32
}

// NFT implements Expr.
func (m MarkClear) NFT() string { return fmt.Sprintf("meta mark & 0x%08x == 0", m.Mask) }

// MarkOp is how SetMark combines its bits with the packet mark.
type MarkOp string

// Mark operations.
const (
	MarkOr  MarkOp = "|"
	MarkXor MarkOp = "^"
)

// SetMark sets (MarkOr) or flips (MarkXor) bits of the packet mark.
type SetMark struct {
	Op   MarkOp
	Bits uint32
}

// NFT implements Expr.
func (s SetMark) NFT() string {
	return fmt.Sprintf("meta mark set meta mark %s 0x%08x", s.Op, s.Bits)
}

// Masquerade rewrites the source address to the outgoing interface's.
type Masquerade struct {
	FullyRandom bool
}

// NFT implements Expr.
func (m Masquerade) NFT() string {
	if m.FullyRandom {
		return "masquerade fully-random"
	}
	return "masquerade"
}

// DNAT rewrites the destination to Addr:Port. It must follow a match on
// the transport protocol.
type DNAT struct {
	Addr string
	Port int32
}

// NFT implements Expr.
func (d DNAT) NFT() string { return "dnat ip to " + d.Addr + ":" + strconv.Itoa(int(d.Port)) }

// UpdateSet adds (or refreshes the timeout of) the packet's Field in the
// dynamic set Set.
type UpdateSet struct {
	Set   string
	Field Field
}

// NFT implements Expr.
func (u UpdateSet) NFT() string { return "update @" + u.Set + " { " + string(u.Field) + " }" }

// Reject refuses the packet: a TCP reset when TCPReset, else an ICMP
// port-unreachable.
type Reject struct {
	TCPReset bool
}

// NFT implements Expr.
func (r Reject) NFT() string {
	if r.TCPReset {
		return "reject with tcp reset"
	}
	return "reject"
}

// VerdictKind is the kind of a Verdict.
type VerdictKind string

// Verdict kinds.
const (
	Jump   VerdictKind = "jump"
	Goto   VerdictKind = "goto"
	Drop   VerdictKind = "drop"
	Return VerdictKind = "return"
	Accept VerdictKind = "accept"
)

// Verdict ends rule evaluation: Jump and Goto name a Chain.
type Verdict struct {
	Kind  VerdictKind
	Chain string
}

// NFT implements Expr.
func (v Verdict) NFT() string {
	if v.Kind == Jump || v.Kind == Goto {
		return string(v.Kind) + " " + v.Chain
	}
	return string(v.Kind)
}

// VMap looks the concatenation of Key fields up in the verdict map Map and
// applies the verdict found; no verdict when the key is absent.
type VMap struct {
	Key []Field
	Map string
}

// NFT implements Expr.
func (v VMap) NFT() string { return joinFields(v.Key) + " vmap @" + v.Map }

// NumgenVMap picks one of Targets uniformly at random and goes to it.
type NumgenVMap struct {
	Targets []string
}

// NFT implements Expr.
func (n NumgenVMap) NFT() string {
	var b strings.Builder
	fmt.Fprintf(&b, "numgen random mod %d vmap { ", len(n.Targets))
	for i, t := range n.Targets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d : goto %s", i, t)
	}
	b.WriteString(" }")
	return b.String()
}

// Backend is an endpoint address and port, a target of NumgenDNAT.
type Backend struct {
	Addr string
	Port int32
}

// NumgenDNAT picks one of Backends uniformly at random and DNATs to it,
// through an anonymous map from numbers to address . port. Like DNAT, it
// must follow a match on the transport protocol.
type NumgenDNAT struct {
	Backends []Backend
}

// NFT implements Expr.
func (n NumgenDNAT) NFT() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dnat ip addr . port to numgen random mod %d map { ", len(n.Backends))
	for i, t := range n.Backends {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d : %s . %d", i, t.Addr, t.Port)
	}
	b.WriteString(" }")
	return b.String()
}

// setRefs returns the names of the sets an expression reads or writes.
func setRefs(e Expr) []string {
	switch x := e.(type) {
	case Match:
		if strings.HasPrefix(x.Value, "@") {
			return []string{x.Value[1:]}
		}
	case UpdateSet:
		return []string{x.Set}
	case VMap:
		return []string{x.Map}
	case InSet:
		return []string{x.Set}
	}
	return nil
}
