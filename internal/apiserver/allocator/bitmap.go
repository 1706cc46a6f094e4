package allocator

import (
	"fmt"
	"math/bits"
)

// bitmap is a fixed-size set of offsets 0..size-1. It does no I/O.
type bitmap struct {
	size  int
	words []uint64
}

// newBitmap returns an empty bitmap of size offsets.
func newBitmap(size int) *bitmap {
	return &bitmap{size: size, words: make([]uint64, (size+63)/64)}
}

// has reports whether offset i is set.
func (b *bitmap) has(i int) bool {
	return b.words[i/64]&(1<<(i%64)) != 0
}

// set marks offset i and reports whether it was clear before.
func (b *bitmap) set(i int) bool {
	if b.has(i) {
		return false
	}
	b.words[i/64] |= 1 << (i % 64)
	return true
}

// clear unmarks offset i and reports whether it was set before.
func (b *bitmap) clear(i int) bool {
	if !b.has(i) {
		return false
	}
	b.words[i/64] &^= 1 << (i % 64)
	return true
}

// count returns the number of set offsets.
func (b *bitmap) count() int {
	n := 0
	for _, w := range b.words {
		n += bits.OnesCount64(w)
	}
	return n
}

// nextFree returns the first clear offset in [lo, hi), scanning from start
// (lo <= start < hi) up to hi and then wrapping around from lo.
func (b *bitmap) nextFree(start, lo, hi int) (int, bool) {
	if i, ok := b.firstClear(start, hi); ok {
		return i, true
	}
	return b.firstClear(lo, start)
}

// firstClear returns the first clear offset in [from, to), skipping full
// words.
func (b *bitmap) firstClear(from, to int) (int, bool) {
	for i := from; i < to; {
		w := b.words[i/64] | (1<<(i%64) - 1) // ignore offsets below i
		if w == ^uint64(0) {
			i = (i/64 + 1) * 64
			continue
		}
		free := (i/64)*64 + bits.TrailingZeros64(^w)
		if free < to {
			return free, true
		}
		return 0, false
	}
	return 0, false
}

// bytes encodes the bitmap: offset i is bit i%8 of byte i/8.
func (b *bitmap) bytes() []byte {
	out := make([]byte, (b.size+7)/8)
	for i := range out {
		out[i] = byte(b.words[i/8] >> (8 * (i % 8)))
	}
	return out
}

// bitmapFromBytes decodes what bytes produced for a bitmap of size offsets.
func bitmapFromBytes(size int, data []byte) (*bitmap, error) {
	if len(data) > (size+7)/8 {
		return nil, fmt.Errorf("bitmap of %d bytes is too long for %d offsets", len(data), size)
	}
	b := newBitmap(size)
	for i, v := range data {
		b.words[i/8] |= uint64(v) << (8 * (i % 8))
	}
	if size%64 != 0 && len(b.words) > 0 && b.words[len(b.words)-1]>>(size%64) != 0 {
		return nil, fmt.Errorf("bitmap has offsets set beyond its size %d", size)
	}
	return b, nil
}
