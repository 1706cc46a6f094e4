package network

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// MasqTable is the nftables table (in the ip and ip6 families) holding
// the pod masquerading rule.
const MasqTable = "skiff-masq"

// ParseCIDRs parses a comma-separated list of prefixes ("10.244.0.0/16,
// fd00::/48"), masking host bits.
func ParseCIDRs(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("CIDR %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// masqExprs matches packets from a pod (source in cidr) to anywhere
// outside the cluster's pod network (destination not in cidr) and
// masquerades them: pod-to-pod traffic between nodes keeps its source
// address, traffic leaving the cluster takes the node's.
func masqExprs(cidr netip.Prefix) []expr.Any {
	addrLen, srcOff, dstOff := uint32(4), uint32(12), uint32(16)
	if cidr.Addr().Is6() {
		addrLen, srcOff, dstOff = 16, 8, 24
	}
	mask := prefixMask(cidr)
	net := cidr.Addr().AsSlice()
	zero := make([]byte, addrLen)
	match := func(off uint32, op expr.CmpOp) []expr.Any {
		return []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: addrLen},
			&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: addrLen, Mask: mask, Xor: zero},
			&expr.Cmp{Op: op, Register: 1, Data: net},
		}
	}
	out := match(srcOff, expr.CmpOpEq)
	out = append(out, match(dstOff, expr.CmpOpNeq)...)
	return append(out, &expr.Masq{})
}

// prefixMask returns the netmask of p as bytes.
func prefixMask(p netip.Prefix) []byte {
	mask := make([]byte, p.Addr().BitLen()/8)
	for i := range p.Bits() {
		mask[i/8] |= 0x80 >> (i % 8)
	}
	return mask
}

// EnsureMasquerade (re)writes MasqTable in the current network namespace
// with one masquerading rule per cluster CIDR, in one transaction.
// Nodes use it instead of the CNI bridge plugin's ipMasq, which would
// also hide pod addresses from other nodes' pods.
func EnsureMasquerade(clusterCIDRs []netip.Prefix) error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		t := &nftables.Table{Family: fam, Name: MasqTable}
		// add + delete + add: replaces the table whether or not it exists.
		c.AddTable(t)
		c.DelTable(t)
		c.AddTable(t)
		ch := c.AddChain(&nftables.Chain{
			Name: "postrouting", Table: t, Type: nftables.ChainTypeNAT,
			Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
		})
		for _, p := range clusterCIDRs {
			if p.Addr().Is6() == (fam == nftables.TableFamilyIPv6) {
				c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: masqExprs(p)})
			}
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("writing nftables table %s: %w", MasqTable, err)
	}
	return nil
}

// RemoveMasquerade deletes MasqTable (skiff agent --cleanup).
func RemoveMasquerade() error {
	c, err := nftables.New()
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	for _, fam := range []nftables.TableFamily{nftables.TableFamilyIPv4, nftables.TableFamilyIPv6} {
		t := &nftables.Table{Family: fam, Name: MasqTable}
		c.AddTable(t)
		c.DelTable(t)
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("removing nftables table %s: %w", MasqTable, err)
	}
	return nil
}
