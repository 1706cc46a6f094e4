package allocator

import (
	"net"
	"net/netip"
	"testing"
)

func TestUsableAddresses(t *testing.T) {
	cases := []struct {
		cidr    string
		size    int
		wantErr bool
	}{
		{"10.96.0.0/28", 14, false},
		{"10.96.0.0/24", 254, false},
		{"10.96.0.0/30", 2, false},
		{"10.96.0.0/31", 0, true},
		{"10.96.0.0/32", 0, true},
		{"10.96.0.0/12", 1<<20 - 2, false},
		{"10.0.0.0/11", 0, true},
		{"fd00::/120", 255, false},
		{"fd00::/108", 1<<20 - 1, false},
		{"fd00::/64", 0, true},
		{"fd00::/128", 0, true},
	}
	for _, c := range cases {
		_, cidr, err := net.ParseCIDR(c.cidr)
		if err != nil {
			t.Fatal(err)
		}
		p, err := prefixOf(cidr)
		if err != nil {
			t.Fatalf("%s: %v", c.cidr, err)
		}
		size, err := usableAddresses(p)
		if (err != nil) != c.wantErr || size != c.size {
			t.Errorf("%s: size %d err %v; want %d, error %v", c.cidr, size, err, c.size, c.wantErr)
		}
	}
}

func TestPrefixOf(t *testing.T) {
	mapped := &net.IPNet{IP: net.ParseIP("10.1.2.3"), Mask: net.CIDRMask(24, 32)} // 16-byte IP, 4-byte mask
	p, err := prefixOf(mapped)
	if err != nil || p.String() != "10.1.2.0/24" {
		t.Errorf("prefixOf(mapped) = %v, %v", p, err)
	}
	bad := []*net.IPNet{
		nil,
		{IP: net.ParseIP("fd00::1"), Mask: net.CIDRMask(24, 32)},
		{IP: net.IP{1, 2}, Mask: net.CIDRMask(8, 32)},
		{IP: net.ParseIP("10.0.0.0"), Mask: net.IPMask{255, 0, 255, 0}},
	}
	for _, n := range bad {
		if _, err := prefixOf(n); err == nil {
			t.Errorf("prefixOf(%v) succeeded", n)
		}
	}
}

func TestAddrArithmetic(t *testing.T) {
	cases := []struct {
		a    string
		n    uint64
		want string
	}{
		{"10.0.0.1", 0, "10.0.0.1"},
		{"10.0.0.1", 255, "10.0.1.0"},
		{"10.255.255.255", 1, "11.0.0.0"},
		{"fd00::1", 0xffff, "fd00::1:0"},
		{"fd00::ffff:ffff:ffff:ffff", 1, "fd00:0:0:1::"},
	}
	for _, c := range cases {
		a := netip.MustParseAddr(c.a)
		got := addrAdd(a, c.n)
		if got.String() != c.want {
			t.Errorf("%s + %d = %s, want %s", c.a, c.n, got, c.want)
		}
		if d, ok := addrSub(got, a); !ok || d != c.n {
			t.Errorf("%s - %s = %d, %v; want %d", got, a, d, ok, c.n)
		}
	}
	if _, ok := addrSub(netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")); ok {
		t.Error("negative difference reported ok")
	}
	if _, ok := addrSub(netip.MustParseAddr("fd00::1"), netip.MustParseAddr("10.0.0.2")); ok {
		t.Error("mixed families reported ok")
	}
	if _, ok := addrSub(netip.MustParseAddr("ff00::"), netip.MustParseAddr("::")); ok {
		t.Error("difference over 64 bits reported ok")
	}
}

func TestBands(t *testing.T) {
	cases := []struct{ size, ip, port int }{
		{14, 16, 16},
		{254, 16, 16},
		{4094, 255, 127},
		{1 << 20, 256, 128},
		{2768, 173, 86},
	}
	for _, c := range cases {
		if got := ipBand(c.size); got != c.ip {
			t.Errorf("ipBand(%d) = %d, want %d", c.size, got, c.ip)
		}
		if got := portBand(c.size); got != c.port {
			t.Errorf("portBand(%d) = %d, want %d", c.size, got, c.port)
		}
	}
}
