package proxy

import (
	"reflect"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// TestRuleExprs checks the bytecode of rules against what
// `nft --debug=netlink` prints for the same text.
func TestRuleExprs(t *testing.T) {
	ipv4 := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.NFPROTO_IPV4}},
	}
	cases := []struct {
		name  string
		exprs []rules.Expr
		want  []expr.Any
	}{{
		name:  "ip saddr != 10.244.0.0/16 (byte boundary: 2-byte load)",
		exprs: []rules.Expr{rules.Match{Field: rules.FieldSrcAddr, Negate: true, Value: "10.244.0.0/16"}},
		want: append(ipv4[:2:2],
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 2},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{10, 244}}),
	}, {
		name: "ip saddr 10.128.0.0/9 (masked), one IPv4 check for two matches",
		exprs: []rules.Expr{
			rules.Match{Field: rules.FieldDstAddr, Value: "10.96.0.1"},
			rules.Match{Field: rules.FieldSrcAddr, Value: "10.128.0.0/9"}},
		want: append(ipv4[:2:2],
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{10, 96, 0, 1}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{255, 128, 0, 0}, Xor: []byte{0, 0, 0, 0}},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{10, 128, 0, 0}}),
	}, {
		name:  "ip daddr . meta l4proto . th dport vmap @service-ips",
		exprs: []rules.Expr{rules.VMap{Key: []rules.Field{rules.FieldDstAddr, rules.FieldL4Proto, rules.FieldDstPort}, Map: "service-ips"}},
		want: append(ipv4[:2:2],
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 9},
			&expr.Payload{DestRegister: 10, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
			&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: "service-ips"}),
	}, {
		name:  "meta l4proto sctp dnat ip to 10.244.1.5:9000",
		exprs: []rules.Expr{rules.Match{Field: rules.FieldL4Proto, Value: "sctp"}, rules.DNAT{Addr: "10.244.1.5", Port: 9000}},
		want: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_SCTP}},
			&expr.Immediate{Register: 1, Data: []byte{10, 244, 1, 5}},
			&expr.Immediate{Register: 2, Data: []byte{0x23, 0x28}},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true}},
	}, {
		name:  "meta mark set meta mark | 0x4000",
		exprs: []rules.Expr{rules.SetMark{Op: rules.MarkOr, Bits: 0x4000}},
		want: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyMARK, Register: 1},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(0xffffbfff), Xor: binaryutil.NativeEndian.PutUint32(0x4000)},
			&expr.Meta{Key: expr.MetaKeyMARK, SourceRegister: true, Register: 1}},
	}, {
		name:  "ip daddr != @nodeport-ips reject",
		exprs: []rules.Expr{rules.Match{Field: rules.FieldDstAddr, Negate: true, Value: "@nodeport-ips"}, rules.Reject{}},
		want: append(ipv4[:2:2],
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
			&expr.Lookup{SourceRegister: 1, SetName: "nodeport-ips", Invert: true},
			&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: unix.NFT_REJECT_ICMPX_PORT_UNREACH}),
	}, {
		name:  "numgen random mod 2 vmap { ... }",
		exprs: []rules.Expr{rules.NumgenVMap{Targets: []string{"a", "b"}}},
		want: []expr.Any{
			&expr.Numgen{Register: 1, Modulus: 2, Type: unix.NFT_NG_RANDOM},
			&expr.Lookup{SourceRegister: 1, DestRegister: 0, IsDestRegSet: true, SetName: "__map%d", SetID: 7}},
	}, {
		// nft loads no byteorder: google/nftables labels anonymous map keys
		// big-endian, so the host-order number is converted to match them.
		name: "meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { ... }",
		exprs: []rules.Expr{rules.Match{Field: rules.FieldL4Proto, Value: "tcp"},
			rules.NumgenDNAT{Backends: []rules.Backend{{Addr: "10.0.0.1", Port: 80}, {Addr: "10.0.0.2", Port: 8080}}}},
		want: []expr.Any{
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
			&expr.Numgen{Register: 1, Modulus: 2, Type: unix.NFT_NG_RANDOM},
			&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
			&expr.Lookup{SourceRegister: 1, DestRegister: 1, IsDestRegSet: true, SetName: "__map%d", SetID: 8},
			&expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 9, Specified: true}},
	}, {
		name: "ct status dnat ip saddr . ip daddr @hairpin masquerade fully-random",
		exprs: []rules.Expr{rules.CtStatusDNAT{},
			rules.InSet{Key: []rules.Field{rules.FieldSrcAddr, rules.FieldDstAddr}, Set: "hairpin"},
			rules.Masquerade{FullyRandom: true}},
		want: append([]expr.Any{
			&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
				Mask: binaryutil.NativeEndian.PutUint32(0x20), Xor: []byte{0, 0, 0, 0}},
			&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: []byte{0, 0, 0, 0}}},
			append(ipv4[:2:2],
				&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4},
				&expr.Payload{DestRegister: 9, Base: expr.PayloadBaseNetworkHeader, Offset: 16, Len: 4},
				&expr.Lookup{SourceRegister: 1, SetName: "hairpin"},
				&expr.Masq{FullyRandom: true})...),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := ruleExprs{anonMap: func(targets []string) (*nftables.Set, error) {
				return &nftables.Set{Name: "__map%d", ID: 7}, nil
			}, dnatMap: func(backends []rules.Backend) (*nftables.Set, error) {
				return &nftables.Set{Name: "__map%d", ID: 8}, nil
			}}
			if err := r.build(c.exprs); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r.out, c.want) {
				t.Errorf("got:")
				for _, e := range r.out {
					t.Errorf("  %#v", e)
				}
			}
		})
	}
}

// TestRuleExprsErrors checks that input nft would refuse is refused.
func TestRuleExprsErrors(t *testing.T) {
	for _, e := range []rules.Expr{
		rules.Match{Field: rules.FieldL4Proto, Value: "icmp"},
		rules.Match{Field: rules.FieldSrcAddr, Value: "2001:db8::1"},
		rules.Match{Field: rules.FieldDstAddr, Value: "10.0.0.0/33"},
		rules.DNAT{Addr: "not-an-ip", Port: 80},
		rules.InSet{Key: []rules.Field{"ip tos"}, Set: "s"},
		rules.Verdict{Kind: "continue"},
		rules.SetMark{Op: "&", Bits: 1},
	} {
		r := ruleExprs{}
		if err := r.build([]rules.Expr{e}); err == nil {
			t.Errorf("%s: no error", e.NFT())
		}
	}
}

// TestElementKeys checks the key bytes of set elements: concatenated
// values padded to 4 bytes each, as nft lists them.
func TestElementKeys(t *testing.T) {
	cases := []struct {
		types []string
		key   []string
		want  []byte
	}{
		{[]string{"ipv4_addr", "inet_proto", "inet_service"}, []string{"10.0.0.1", "tcp", "80"},
			[]byte{10, 0, 0, 1, 6, 0, 0, 0, 0, 80, 0, 0}},
		{[]string{"inet_proto", "inet_service"}, []string{"sctp", "30080"}, []byte{132, 0, 0, 0, 0x75, 0x80, 0, 0}},
		{[]string{"ipv4_addr"}, []string{"192.168.1.10"}, []byte{192, 168, 1, 10}},
	}
	for _, c := range cases {
		el, err := nlElement(c.types, rules.Element{Key: c.key, Value: rules.Verdict{Kind: rules.Goto, Chain: "x"}}, true)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(el.Key, c.want) {
			t.Errorf("%v: key % x, want % x", c.key, el.Key, c.want)
		}
		if el.VerdictData == nil || el.VerdictData.Kind != expr.VerdictGoto || el.VerdictData.Chain != "x" {
			t.Errorf("%v: verdict %+v", c.key, el.VerdictData)
		}
	}
	if _, err := nlElement([]string{"ipv4_addr", "inet_proto"}, rules.Element{Key: []string{"10.0.0.1"}}, false); err == nil {
		t.Error("a key with too few values was accepted")
	}
}
