package placement

import (
	"math/rand"
	"testing"
)

// TestNominatedPodsHoldRoom: a pod nominated to a node after preemption
// keeps the room it freed from pods of lower priority, not from itself or
// from pods of higher priority; binding or deleting it ends that.
func TestNominatedPodsHoldRoom(t *testing.T) {
	s := loadScript(t, `
node a cpu=2
pod nominee cpu=1500m priority=10
pod low cpu=1 priority=0
pod same cpu=1 priority=10
pod high cpu=1 priority=100
pod small cpu=500m priority=0
`)
	s.snap.Nominate(s.pod("nominee"), "a")
	if got := s.snap.NominatedNode(s.pod("nominee")); got != "a" {
		t.Fatalf("nominated node %q, want a", got)
	}
	tests := []struct {
		pod  string
		want string // node, or "" when it must not fit
	}{
		{"low", ""},      // 1 + 1.5 > 2
		{"same", ""},     // equal priority counts too
		{"high", "a"},    // outranks the nominee
		{"small", "a"},   // 0.5 + 1.5 fits
		{"nominee", "a"}, // not counted against itself
	}
	for _, tt := range tests {
		res, err := Schedule(s.pod(tt.pod), s.snap, Config{}, rand.New(rand.NewSource(1)))
		if res.Node != tt.want {
			t.Errorf("%s: node %q (err %v), want %q", tt.pod, res.Node, err, tt.want)
		}
	}
	if res, _ := Schedule(s.pod("low"), s.snap, Config{}, rand.New(rand.NewSource(1))); res.Reasons["a"][0] != "Insufficient cpu" {
		t.Errorf("low: reasons %v, want Insufficient cpu", res.Reasons)
	}

	// Preemption also counts the nominee: evicting nothing cannot help low.
	if _, victims, ok := Preempt(s.pod("low"), s.snap, Config{}, nil); ok {
		t.Errorf("low preempts %v on a node held for a nominee", victims)
	}

	// Once the nominee is assumed (bound), the nomination is gone and its
	// usage counts once.
	s.snap.Assume(s.pod("nominee"), "a")
	if got := s.snap.NominatedNode(s.pod("nominee")); got != "" {
		t.Errorf("nominated node after binding %q, want none", got)
	}
	if res, _ := Schedule(s.pod("small"), s.snap, Config{}, rand.New(rand.NewSource(1))); res.Node != "a" {
		t.Errorf("small after the nominee bound: %q, want a", res.Node)
	}
	s.snap.RemovePod(s.pod("nominee"))
	if res, _ := Schedule(s.pod("low"), s.snap, Config{}, rand.New(rand.NewSource(1))); res.Node != "a" {
		t.Errorf("low after the nominee left: %q, want a", res.Node)
	}
}
