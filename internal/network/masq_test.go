package network

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/nftables/expr"
)

func TestMasqExprs(t *testing.T) {
	tests := []struct {
		cidr                string
		off1, off2, addrLen uint32
		mask, net           []byte
	}{
		{"10.244.0.0/16", 12, 16, 4, []byte{255, 255, 0, 0}, []byte{10, 244, 0, 0}},
		{"10.128.0.0/9", 12, 16, 4, []byte{255, 128, 0, 0}, []byte{10, 128, 0, 0}},
		{"fd00::/8", 8, 24, 16, append([]byte{255}, make([]byte, 15)...), append([]byte{0xfd}, make([]byte, 15)...)},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			e := masqExprs(netip.MustParsePrefix(tt.cidr))
			if len(e) != 7 {
				t.Fatalf("%d expressions, want 7", len(e))
			}
			src, dst := e[0].(*expr.Payload), e[3].(*expr.Payload)
			if src.Offset != tt.off1 || dst.Offset != tt.off2 || src.Len != tt.addrLen {
				t.Errorf("payload offsets %d/%d len %d", src.Offset, dst.Offset, src.Len)
			}
			if m := e[1].(*expr.Bitwise).Mask; !bytes.Equal(m, tt.mask) {
				t.Errorf("mask %v, want %v", m, tt.mask)
			}
			if c := e[2].(*expr.Cmp); c.Op != expr.CmpOpEq || !bytes.Equal(c.Data, tt.net) {
				t.Errorf("source match %v %v", c.Op, c.Data)
			}
			if c := e[5].(*expr.Cmp); c.Op != expr.CmpOpNeq || !bytes.Equal(c.Data, tt.net) {
				t.Errorf("destination match %v %v", c.Op, c.Data)
			}
			if _, ok := e[6].(*expr.Masq); !ok {
				t.Errorf("last expression %T, want Masq", e[6])
			}
		})
	}
}

func TestParseCIDRs(t *testing.T) {
	got, err := ParseCIDRs(" 10.244.1.5/16, fd00::/48,")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].String() != "10.244.0.0/16" || got[1].String() != "fd00::/48" {
		t.Fatalf("ParseCIDRs = %v", got)
	}
	if _, err := ParseCIDRs("10.0.0.0/33"); err == nil {
		t.Fatal("ParseCIDRs accepted a bad prefix")
	}
}
