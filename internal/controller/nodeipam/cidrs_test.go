package nodeipam

import (
	"errors"
	"testing"
)

func TestRanges(t *testing.T) {
	r, err := NewRanges("10.244.0.0/22", 24)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Occupy("10.244.1.0/24"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 3 {
		c, err := r.Allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	want := []string{"10.244.0.0/24", "10.244.2.0/24", "10.244.3.0/24"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocated %v, want %v", got, want)
		}
	}
	if _, err := r.Allocate(); !errors.Is(err, ErrFull) {
		t.Fatalf("allocate from full ranges: %v, want ErrFull", err)
	}
	r.Release("10.244.2.0/24")
	if c, _ := r.Allocate(); c != "10.244.2.0/24" {
		t.Fatalf("after release got %s", c)
	}
	for _, bad := range []string{"10.245.0.0/24", "10.244.0.0/25", "nonsense"} {
		if err := r.Occupy(bad); err == nil {
			t.Errorf("Occupy(%q) succeeded", bad)
		}
	}
}

func TestRangesIPv6AndErrors(t *testing.T) {
	r, err := NewRanges("fd00:10:244::/56", 64)
	if err != nil {
		t.Fatal(err)
	}
	r.Occupy("fd00:10:244::/64")
	if c, _ := r.Allocate(); c != "fd00:10:244:1::/64" {
		t.Fatalf("got %s", c)
	}
	for _, tc := range []struct {
		cidr string
		mask int
	}{{"10.0.0.0/24", 16}, {"10.0.0.0/8", 33}, {"10.0.0.0/8", 30}, {"x", 24}} {
		if _, err := NewRanges(tc.cidr, tc.mask); err == nil {
			t.Errorf("NewRanges(%s, %d) succeeded", tc.cidr, tc.mask)
		}
	}
}
