package proxy

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// This file translates the rule model (rules.Expr) into nftables
// bytecode, the same bytecode nft(8) generates for the rendered text, so
// that both appliers program identical tables.

// Registers: reg 1 is the 16-byte register that also spans the 4-byte
// registers 8 to 11, which concatenated map keys fill in turn.
const (
	// ctStatusDstNAT is IPS_DST_NAT, the conntrack status bit of DNAT.
	ctStatusDstNAT = 0x20

	regVerdict = 0
	reg1       = 1
	reg2       = 2
	reg32Base  = 8
)

// ruleExprs builds the expressions of one rule. anonMap declares the
// anonymous verdict map a numgen expression needs, in the same batch,
// and returns it.
type ruleExprs struct {
	out []expr.Any
	// ipv4 is set once the rule has checked that the packet is IPv4
	// (nft adds that dependency before the first IPv4 header access).
	ipv4    bool
	anonMap func(targets []string) (*nftables.Set, error)
	// dnatMap declares the anonymous map from numbers to address . port
	// that a numgen DNAT looks its number up in.
	dnatMap func(backends []rules.Backend) (*nftables.Set, error)
}

func (r *ruleExprs) add(e ...expr.Any) { r.out = append(r.out, e...) }

// build translates the expressions of a rule.
func (r *ruleExprs) build(exprs []rules.Expr) error {
	for _, e := range exprs {
		if err := r.one(e); err != nil {
			return fmt.Errorf("%s: %w", e.NFT(), err)
		}
	}
	return nil
}

func (r *ruleExprs) one(e rules.Expr) error {
	switch x := e.(type) {
	case rules.Match:
		return r.match(x)
	case rules.FibLocal:
		r.add(&expr.Fib{Register: reg1, ResultADDRTYPE: true,
			FlagSADDR: x.Field == rules.FieldSrcAddr, FlagDADDR: x.Field != rules.FieldSrcAddr},
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)})
	case rules.CtStatusDNAT:
		r.add(&expr.Ct{Register: reg1, Key: expr.CtKeySTATUS},
			bitwise(binaryutil.NativeEndian.PutUint32(ctStatusDstNAT), make([]byte, 4)),
			&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: make([]byte, 4)})
	case rules.InSet:
		if err := r.loadConcat(x.Key); err != nil {
			return err
		}
		r.add(&expr.Lookup{SourceRegister: reg1, SetName: x.Set})
	case rules.NumgenDNAT:
		return r.numgenDNAT(x)
	case rules.CtStateNew:
		r.add(&expr.Ct{Register: reg1, Key: expr.CtKeySTATE},
			bitwise(binaryutil.NativeEndian.PutUint32(expr.CtStateBitNEW), make([]byte, 4)),
			&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: make([]byte, 4)})
	case rules.MarkClear:
		r.add(&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1},
			bitwise(binaryutil.NativeEndian.PutUint32(x.Mask), make([]byte, 4)),
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: make([]byte, 4)})
	case rules.SetMark:
		mask, xor := ^x.Bits, x.Bits
		if x.Op == rules.MarkXor {
			mask = 0xffffffff
		} else if x.Op != rules.MarkOr {
			return fmt.Errorf("unknown mark operation %q", x.Op)
		}
		r.add(&expr.Meta{Key: expr.MetaKeyMARK, Register: reg1},
			bitwise(binaryutil.NativeEndian.PutUint32(mask), binaryutil.NativeEndian.PutUint32(xor)),
			&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: reg1})
	case rules.Masquerade:
		r.add(&expr.Masq{FullyRandom: x.FullyRandom})
	case rules.DNAT:
		addr, err := parseAddr4(x.Addr)
		if err != nil {
			return err
		}
		r.add(&expr.Immediate{Register: reg1, Data: addr},
			&expr.Immediate{Register: reg2, Data: binaryutil.BigEndian.PutUint16(uint16(x.Port))},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4,
				RegAddrMin: reg1, RegProtoMin: reg2, Specified: true})
	case rules.UpdateSet:
		if err := r.load(x.Field, reg1); err != nil {
			return err
		}
		r.add(&expr.Dynset{SrcRegKey: reg1, SetName: x.Set, Operation: unix.NFT_DYNSET_OP_UPDATE})
	case rules.Reject:
		if x.TCPReset {
			r.add(&expr.Reject{Type: unix.NFT_REJECT_TCP_RST})
		} else {
			r.add(&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: unix.NFT_REJECT_ICMPX_PORT_UNREACH})
		}
	case rules.Verdict:
		v, err := verdict(x)
		if err != nil {
			return err
		}
		r.add(v)
	case rules.VMap:
		return r.vmap(x)
	case rules.NumgenVMap:
		return r.numgen(x)
	default:
		return fmt.Errorf("no netlink translation for %T", e)
	}
	return nil
}

func bitwise(mask, xor []byte) *expr.Bitwise {
	return &expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: uint32(len(mask)), Mask: mask, Xor: xor}
}

// match compares a field with an address, prefix, protocol, port or set.
func (r *ruleExprs) match(m rules.Match) error {
	op := expr.CmpOpEq
	if m.Negate {
		op = expr.CmpOpNeq
	}
	if name, ok := strings.CutPrefix(m.Value, "@"); ok {
		if err := r.load(m.Field, reg1); err != nil {
			return err
		}
		r.add(&expr.Lookup{SourceRegister: reg1, SetName: name, Invert: m.Negate})
		return nil
	}
	switch m.Field {
	case rules.FieldSrcAddr, rules.FieldDstAddr:
		return r.matchAddr(m.Field, m.Value, op)
	}
	value, err := fieldValue(m.Field, m.Value, false)
	if err != nil {
		return err
	}
	if err := r.load(m.Field, reg1); err != nil {
		return err
	}
	r.add(&expr.Cmp{Op: op, Register: reg1, Data: value})
	return nil
}

// matchAddr compares an IPv4 address field with an address or a prefix.
// Like nft, a prefix on a byte boundary loads only its bytes; another is
// masked.
func (r *ruleExprs) matchAddr(field rules.Field, value string, op expr.CmpOp) error {
	if !strings.Contains(value, "/") {
		addr, err := parseAddr4(value)
		if err != nil {
			return err
		}
		if err := r.load(field, reg1); err != nil {
			return err
		}
		r.add(&expr.Cmp{Op: op, Register: reg1, Data: addr})
		return nil
	}
	p, err := netip.ParsePrefix(value)
	if err != nil || !p.Addr().Is4() {
		return fmt.Errorf("not an IPv4 prefix: %q", value)
	}
	p = p.Masked()
	addr := p.Addr().AsSlice()
	r.ipv4Dep()
	off := addrOffset(field)
	if p.Bits()%8 == 0 {
		n := uint32(p.Bits() / 8)
		r.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: n},
			&expr.Cmp{Op: op, Register: reg1, Data: addr[:n]})
		return nil
	}
	mask := binary.BigEndian.AppendUint32(nil, ^uint32(0)<<(32-p.Bits()))
	r.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4},
		bitwise(mask, make([]byte, 4)),
		&expr.Cmp{Op: op, Register: reg1, Data: addr})
	return nil
}

// vmap looks the concatenated fields up in a named verdict map.
func (r *ruleExprs) vmap(v rules.VMap) error {
	if err := r.loadConcat(v.Key); err != nil {
		return err
	}
	r.add(&expr.Lookup{SourceRegister: reg1, DestRegister: regVerdict, IsDestRegSet: true, SetName: v.Map})
	return nil
}

// numgen picks a target at random through an anonymous verdict map.
func (r *ruleExprs) numgen(n rules.NumgenVMap) error {
	set, err := r.anonMap(n.Targets)
	if err != nil {
		return err
	}
	r.add(&expr.Numgen{Register: reg1, Modulus: uint32(len(n.Targets)), Type: unix.NFT_NG_RANDOM},
		&expr.Lookup{SourceRegister: reg1, DestRegister: regVerdict, IsDestRegSet: true, SetName: set.Name, SetID: set.ID})
	return nil
}

// numgenDNAT picks an address . port at random through an anonymous map
// into reg 1 (32-bit regs 8 and 9) and DNATs to it.
func (r *ruleExprs) numgenDNAT(n rules.NumgenDNAT) error {
	set, err := r.dnatMap(n.Backends)
	if err != nil {
		return err
	}
	r.add(&expr.Numgen{Register: reg1, Modulus: uint32(len(n.Backends)), Type: unix.NFT_NG_RANDOM},
		&expr.Byteorder{SourceRegister: reg1, DestRegister: reg1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Lookup{SourceRegister: reg1, DestRegister: reg1, IsDestRegSet: true, SetName: set.Name, SetID: set.ID},
		&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4,
			RegAddrMin: reg1, RegProtoMin: reg32Base + 1, Specified: true})
	return nil
}

// loadConcat loads the fields into consecutive 4-byte registers.
func (r *ruleExprs) loadConcat(fields []rules.Field) error {
	slot := uint32(0)
	for _, f := range fields {
		reg := uint32(reg1)
		if slot > 0 {
			reg = reg32Base + slot
		}
		if err := r.load(f, reg); err != nil {
			return err
		}
		slot += (fieldLen(f) + 3) / 4
	}
	return nil
}

// load puts a packet field into a register.
func (r *ruleExprs) load(f rules.Field, reg uint32) error {
	switch f {
	case rules.FieldSrcAddr, rules.FieldDstAddr:
		r.ipv4Dep()
		r.add(&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: addrOffset(f), Len: 4})
	case rules.FieldL4Proto:
		r.add(&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg})
	case rules.FieldDstPort:
		r.add(&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2})
	default:
		return fmt.Errorf("unknown field %q", f)
	}
	return nil
}

// ipv4Dep checks once per rule that the packet is IPv4, as nft does in
// an inet table before reading the IPv4 header.
func (r *ruleExprs) ipv4Dep() {
	if r.ipv4 {
		return
	}
	r.ipv4 = true
	r.add(&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{unix.NFPROTO_IPV4}})
}

func addrOffset(f rules.Field) uint32 {
	if f == rules.FieldSrcAddr {
		return 12
	}
	return 16
}

func fieldLen(f rules.Field) uint32 {
	switch f {
	case rules.FieldSrcAddr, rules.FieldDstAddr:
		return 4
	case rules.FieldL4Proto:
		return 1
	}
	return 2
}

// fieldValue encodes a value of a field; padded rounds it up to the
// 4-byte register size, as in a concatenated key.
func fieldValue(f rules.Field, value string, padded bool) ([]byte, error) {
	var b []byte
	switch f {
	case rules.FieldSrcAddr, rules.FieldDstAddr:
		a, err := parseAddr4(value)
		if err != nil {
			return nil, err
		}
		b = a
	case rules.FieldL4Proto:
		p, err := protoNumber(value)
		if err != nil {
			return nil, err
		}
		b = []byte{p}
	case rules.FieldDstPort:
		p, err := strconv.ParseUint(value, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad port %q", value)
		}
		b = binaryutil.BigEndian.PutUint16(uint16(p))
	default:
		return nil, fmt.Errorf("unknown field %q", f)
	}
	if padded {
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b, nil
}

// protoNumber is the IP protocol number of a name nft accepts.
func protoNumber(name string) (byte, error) {
	switch name {
	case "tcp":
		return unix.IPPROTO_TCP, nil
	case "udp":
		return unix.IPPROTO_UDP, nil
	case "sctp":
		return unix.IPPROTO_SCTP, nil
	}
	return 0, fmt.Errorf("unknown protocol %q", name)
}

func parseAddr4(s string) ([]byte, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Unmap().Is4() {
		return nil, fmt.Errorf("not an IPv4 address: %q", s)
	}
	return a.Unmap().AsSlice(), nil
}

// verdict translates a verdict.
func verdict(v rules.Verdict) (*expr.Verdict, error) {
	kinds := map[rules.VerdictKind]expr.VerdictKind{
		rules.Jump: expr.VerdictJump, rules.Goto: expr.VerdictGoto, rules.Drop: expr.VerdictDrop,
		rules.Return: expr.VerdictReturn, rules.Accept: expr.VerdictAccept,
	}
	k, ok := kinds[v.Kind]
	if !ok {
		return nil, fmt.Errorf("unknown verdict %q", v.Kind)
	}
	return &expr.Verdict{Kind: k, Chain: v.Chain}, nil
}
