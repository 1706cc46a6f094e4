package nodeipam

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
)

// ErrFull is returned when every node range is taken.
var ErrFull = errors.New("no pod CIDR left in the cluster CIDR")

// Ranges hands out fixed-size subnets (one per node) of a cluster CIDR,
// lowest free first. It is not safe for concurrent use.
type Ranges struct {
	base     netip.Prefix
	maskSize int
	size     int // number of subnets
	used     []bool
	next     int // search hint: lowest index that may be free
}

// NewRanges splits cidr into subnets of maskSize bits.
func NewRanges(cidr string, maskSize int) (*Ranges, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("cluster CIDR %q: %w", cidr, err)
	}
	p = p.Masked()
	diff := maskSize - p.Bits()
	if maskSize > p.Addr().BitLen() || diff < 0 {
		return nil, fmt.Errorf("node mask size /%d does not fit in cluster CIDR %s", maskSize, p)
	}
	if diff > 20 {
		return nil, fmt.Errorf("node mask size /%d makes too many ranges of %s (at most 2^20)", maskSize, p)
	}
	n := 1 << diff
	return &Ranges{base: p, maskSize: maskSize, size: n, used: make([]bool, n)}, nil
}

// Allocate takes the lowest free subnet.
func (r *Ranges) Allocate() (string, error) {
	for i := r.next; i < r.size; i++ {
		if !r.used[i] {
			r.used[i] = true
			r.next = i + 1
			return r.subnet(i).String(), nil
		}
	}
	return "", ErrFull
}

// Occupy marks cidr as taken (a node that already has it). Subnets outside
// the cluster CIDR or of another size are an error.
func (r *Ranges) Occupy(cidr string) error {
	i, err := r.index(cidr)
	if err != nil {
		return err
	}
	r.used[i] = true
	return nil
}

// Release frees cidr; unknown subnets are ignored.
func (r *Ranges) Release(cidr string) {
	if i, err := r.index(cidr); err == nil {
		r.used[i] = false
		r.next = min(r.next, i)
	}
}

func (r *Ranges) subnet(i int) netip.Prefix {
	shift := uint(r.base.Addr().BitLen() - r.maskSize)
	off := new(big.Int).Lsh(big.NewInt(int64(i)), shift)
	b := new(big.Int).SetBytes(r.base.Addr().AsSlice())
	b.Add(b, off)
	raw := b.FillBytes(make([]byte, r.base.Addr().BitLen()/8))
	a, _ := netip.AddrFromSlice(raw)
	return netip.PrefixFrom(a, r.maskSize)
}

func (r *Ranges) index(cidr string) (int, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return 0, fmt.Errorf("pod CIDR %q: %w", cidr, err)
	}
	if p.Bits() != r.maskSize || !r.base.Contains(p.Addr()) {
		return 0, fmt.Errorf("pod CIDR %s is not a /%d of %s", p, r.maskSize, r.base)
	}
	shift := uint(r.base.Addr().BitLen() - r.maskSize)
	off := new(big.Int).Sub(new(big.Int).SetBytes(p.Masked().Addr().AsSlice()), new(big.Int).SetBytes(r.base.Addr().AsSlice()))
	return int(off.Rsh(off, shift).Int64()), nil
}
