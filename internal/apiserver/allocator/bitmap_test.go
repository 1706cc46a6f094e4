package allocator

import (
	"slices"
	"testing"
)

func TestBitmapSetClear(t *testing.T) {
	b := newBitmap(130)
	for _, i := range []int{0, 63, 64, 129} {
		if !b.set(i) {
			t.Errorf("set(%d) on empty bitmap reported no change", i)
		}
		if b.set(i) {
			t.Errorf("second set(%d) reported a change", i)
		}
	}
	if got := b.count(); got != 4 {
		t.Errorf("count = %d, want 4", got)
	}
	if !b.has(63) || b.has(62) || b.has(65) {
		t.Errorf("has: 63=%v 62=%v 65=%v", b.has(63), b.has(62), b.has(65))
	}
	if !b.clear(64) || b.clear(64) || b.has(64) {
		t.Error("clear(64) did not behave")
	}
	if got := b.count(); got != 3 {
		t.Errorf("count after clear = %d, want 3", got)
	}
}

func TestBitmapNextFree(t *testing.T) {
	full := func(size int, except ...int) *bitmap {
		b := newBitmap(size)
		for i := range size {
			if !slices.Contains(except, i) {
				b.set(i)
			}
		}
		return b
	}
	cases := []struct {
		name          string
		b             *bitmap
		start, lo, hi int
		want          int
		ok            bool
	}{
		{"empty from start", newBitmap(100), 42, 0, 100, 42, true},
		{"skips full words", full(200, 150), 3, 0, 200, 150, true},
		{"wraps around", full(200, 5), 100, 0, 200, 5, true},
		{"respects lower bound", full(200, 5, 150), 100, 10, 200, 150, true},
		{"respects upper bound", full(200, 150), 20, 10, 100, 0, false},
		{"full", full(64), 10, 0, 64, 0, false},
		{"last offset", full(130, 129), 0, 0, 130, 129, true},
		{"start equals lo", full(10, 9), 1, 1, 10, 9, true},
		{"free bit just before start", full(70, 67), 68, 0, 70, 67, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.b.nextFree(c.start, c.lo, c.hi)
			if ok != c.ok || (ok && got != c.want) {
				t.Errorf("nextFree(%d, %d, %d) = %d, %v; want %d, %v", c.start, c.lo, c.hi, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestBitmapBytesRoundTrip(t *testing.T) {
	for _, size := range []int{1, 7, 8, 9, 64, 65, 1000} {
		b := newBitmap(size)
		for i := 0; i < size; i += 3 {
			b.set(i)
		}
		data := b.bytes()
		if len(data) != (size+7)/8 {
			t.Errorf("size %d: %d bytes", size, len(data))
		}
		back, err := bitmapFromBytes(size, data)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !slices.Equal(back.words, b.words) {
			t.Errorf("size %d: round trip changed the bitmap", size)
		}
	}
}

func TestBitmapFromBytesRejects(t *testing.T) {
	cases := []struct {
		name string
		size int
		data []byte
	}{
		{"too long", 8, []byte{0, 0}},
		{"bits beyond size", 4, []byte{0x10}},
	}
	for _, c := range cases {
		if _, err := bitmapFromBytes(c.size, c.data); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	b, err := bitmapFromBytes(20, nil)
	if err != nil || b.count() != 0 {
		t.Errorf("empty data: %v, count %d", err, b.count())
	}
}
