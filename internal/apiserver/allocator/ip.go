package allocator

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/netip"

	"github.com/skiffkube/skiff/internal/storage"
)

// DefaultServiceIPKey is where the Service cluster IP range is stored.
const DefaultServiceIPKey = "/registry/ranges/serviceips"

// maxHostBits caps a service CIDR at 2^20 addresses (an IPv4 /12 or an
// IPv6 /108), which keeps the stored bitmap at 128 KiB.
const maxHostBits = 20

// Range is a set of values an allocator hands out.
type Range interface {
	// Size is the number of values in the range.
	Size() int
}

var (
	_ Range = (*IPAllocator)(nil)
	_ Range = (*PortAllocator)(nil)
)

// IPAllocator hands out Service cluster IPs from one CIDR. For IPv4 the
// network and broadcast addresses are never used; for IPv6 the network
// (subnet-router anycast) address is not. The first usable address
// (KubernetesServiceIP) is reserved for the "kubernetes" Service: only
// Allocate hands it out, never AllocateNext.
type IPAllocator struct {
	core   *rangeAllocator
	prefix netip.Prefix
	// first is the address of offset 0.
	first netip.Addr
}

// NewIPAllocator returns an allocator for cidr whose state lives under key
// in store (DefaultServiceIPKey in the API server). It does no I/O.
func NewIPAllocator(store storage.Store, key string, cidr *net.IPNet, opts ...Option) (*IPAllocator, error) {
	prefix, err := prefixOf(cidr)
	if err != nil {
		return nil, fmt.Errorf("ip allocator: %w", err)
	}
	size, err := usableAddresses(prefix)
	if err != nil {
		return nil, fmt.Errorf("ip allocator %s: %w", prefix, err)
	}
	core, err := newRangeAllocator(store, key, "IP", prefix.String(), size, 1, ipBand(size), opts)
	if err != nil {
		return nil, err
	}
	return &IPAllocator{core: core, prefix: prefix, first: prefix.Addr().Next()}, nil
}

// prefixOf converts a net.IPNet to a masked netip.Prefix.
func prefixOf(cidr *net.IPNet) (netip.Prefix, error) {
	if cidr == nil {
		return netip.Prefix{}, errors.New("nil CIDR")
	}
	addr, ok := netip.AddrFromSlice(cidr.IP)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR address %v", cidr.IP)
	}
	ones, bits := cidr.Mask.Size()
	if bits == 0 {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR mask %v", cidr.Mask)
	}
	if bits == 32 {
		addr = addr.Unmap()
	}
	if addr.BitLen() != bits {
		return netip.Prefix{}, fmt.Errorf("CIDR address %v does not match its mask %v", cidr.IP, cidr.Mask)
	}
	return netip.PrefixFrom(addr, ones).Masked(), nil
}

// usableAddresses counts the addresses of prefix that can be handed out.
func usableAddresses(prefix netip.Prefix) (int, error) {
	hostBits := prefix.Addr().BitLen() - prefix.Bits()
	if hostBits > maxHostBits {
		return 0, fmt.Errorf("range too large: at most 2^%d addresses (an IPv4 /%d or IPv6 /%d)",
			maxHostBits, 32-maxHostBits, 128-maxHostBits)
	}
	size := 1<<hostBits - 1 // minus the network address
	if prefix.Addr().Is4() {
		size-- // minus broadcast
	}
	if size < 1 {
		return 0, errors.New("range has no usable address")
	}
	return size, nil
}

// ipBand sizes the lower part of a service range kept for IPs chosen by
// users: size/16, at least 16 and at most 256.
func ipBand(size int) int {
	return min(max(16, size/16), 256)
}

// Size implements Range: the number of usable addresses.
func (a *IPAllocator) Size() int { return a.core.size }

// CIDR returns the range.
func (a *IPAllocator) CIDR() *net.IPNet {
	return &net.IPNet{
		IP:   net.IP(a.prefix.Addr().AsSlice()),
		Mask: net.CIDRMask(a.prefix.Bits(), a.prefix.Addr().BitLen()),
	}
}

// KubernetesServiceIP returns the first usable address, reserved for the
// "kubernetes" Service.
func (a *IPAllocator) KubernetesServiceIP() net.IP {
	return net.IP(a.first.AsSlice())
}

// AllocateNext takes a free address, searching from a random start and
// preferring the upper part of the range. It returns an error wrapping
// ErrFull when none is left.
func (a *IPAllocator) AllocateNext(ctx context.Context) (net.IP, error) {
	i, err := a.core.allocateNext(ctx)
	if err != nil {
		return nil, err
	}
	return net.IP(addrAdd(a.first, uint64(i)).AsSlice()), nil
}

// Allocate takes ip. It returns an error wrapping ErrAllocated if it is
// taken and ErrNotInRange if it is not a usable address of the range.
func (a *IPAllocator) Allocate(ctx context.Context, ip net.IP) error {
	i, ok := a.offset(ip)
	if !ok {
		return errNotInRange("IP", a.core.rangeName)
	}
	return a.core.allocate(ctx, i)
}

// Release frees ip. Releasing a free address, or one outside the range
// (for example after the range changed), is a no-op.
func (a *IPAllocator) Release(ctx context.Context, ip net.IP) error {
	i, ok := a.offset(ip)
	if !ok {
		return nil
	}
	return a.core.release(ctx, i)
}

// Has reports whether ip is allocated; addresses outside the range are not.
func (a *IPAllocator) Has(ctx context.Context, ip net.IP) (bool, error) {
	i, ok := a.offset(ip)
	if !ok {
		return false, nil
	}
	return a.core.has(ctx, i)
}

// Used returns the number of allocated addresses.
func (a *IPAllocator) Used(ctx context.Context) (int, error) {
	return a.core.used(ctx)
}

// offset maps ip to its bitmap offset, if it is a usable address.
func (a *IPAllocator) offset(ip net.IP) (int, bool) {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return 0, false
	}
	if a.prefix.Addr().Is4() {
		addr = addr.Unmap()
	}
	if !a.prefix.Contains(addr) {
		return 0, false
	}
	d, ok := addrSub(addr, a.first)
	if !ok || d >= uint64(a.core.size) {
		return 0, false
	}
	return int(d), true
}

// addrAdd returns a+n (n small enough to stay in the address family).
func addrAdd(a netip.Addr, n uint64) netip.Addr {
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	lo, carry := bits.Add64(lo, n, 0)
	hi += carry
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	out := netip.AddrFrom16(b)
	if a.Is4() {
		return out.Unmap()
	}
	return out
}

// addrSub returns a-b when a >= b and the difference fits in 64 bits.
func addrSub(a, b netip.Addr) (uint64, bool) {
	if a.Is4() != b.Is4() {
		return 0, false
	}
	x, y := a.As16(), b.As16()
	lo, borrow := bits.Sub64(binary.BigEndian.Uint64(x[8:]), binary.BigEndian.Uint64(y[8:]), 0)
	hi, borrow := bits.Sub64(binary.BigEndian.Uint64(x[:8]), binary.BigEndian.Uint64(y[:8]), borrow)
	if borrow != 0 || hi != 0 {
		return 0, false
	}
	return lo, true
}
