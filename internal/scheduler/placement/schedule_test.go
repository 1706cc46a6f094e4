package placement

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestNumFeasibleToFind(t *testing.T) {
	tests := []struct {
		pct   int32
		nodes int
		want  int
	}{
		{0, 50, 50},       // small clusters: all nodes
		{0, 100, 100},     //
		{0, 1000, 420},    // 50 - 1000/125 = 42%
		{0, 5000, 500},    // 10%
		{0, 10000, 500},   // floor of 5%
		{0, 1200, 492},    // 41%
		{10, 500, 100},    // at least 100 nodes
		{100, 5000, 5000}, // everything
		{30, 5000, 1500},
	}
	for _, tt := range tests {
		if got := numFeasibleToFind(&Config{PercentageOfNodesToScore: tt.pct}, tt.nodes); got != tt.want {
			t.Errorf("pct=%d nodes=%d: got %d, want %d", tt.pct, tt.nodes, got, tt.want)
		}
	}
}

func uniformCluster(t testing.TB, n int) *Snapshot {
	var nodes []*corev1.Node
	for i := range n {
		nodes = append(nodes, makeNode(nil, fmt.Sprintf("n%04d", i), map[string]string{
			"cpu": "32", "mem": "128Gi", "labels": fmt.Sprintf("zone=z%d", i%3)}))
	}
	return NewSnapshot(nodes, nil)
}

func TestScheduleTiesAndSampling(t *testing.T) {
	snap := uniformCluster(t, 10)
	p := makePod(nil, "p", map[string]string{"cpu": "1"})
	seen := map[string]bool{}
	for seed := range int64(30) {
		res, err := Schedule(p, snap, Config{}, rand.New(rand.NewSource(seed)))
		if err != nil {
			t.Fatal(err)
		}
		again, _ := Schedule(p, snap, Config{}, rand.New(rand.NewSource(seed)))
		if again.Node != res.Node {
			t.Fatalf("seed %d: %s then %s", seed, res.Node, again.Node)
		}
		seen[res.Node] = true
	}
	if len(seen) < 5 {
		t.Errorf("ties broken to only %d of 10 equal nodes", len(seen))
	}

	big := uniformCluster(t, 1000)
	res, err := Schedule(p, big, Config{}, rand.New(rand.NewSource(1)))
	if err != nil || res.Feasible != 420 || res.Evaluated != 420 || len(res.Scores) != maxReportedScores {
		t.Errorf("sampling: feasible=%d evaluated=%d err=%v", res.Feasible, res.Evaluated, err)
	}
}

func TestScheduleErrors(t *testing.T) {
	snap := uniformCluster(t, 3)
	p := makePod(nil, "p", map[string]string{"cpu": "64"})
	res, err := Schedule(p, snap, Config{}, rand.New(rand.NewSource(1)))
	var fe *FitError
	if !errors.As(err, &fe) || fe.NumNodes != 3 || len(res.Reasons) != 3 || res.Node != "" {
		t.Fatalf("got %v, %+v", err, res)
	}
	if want := "0/3 nodes are available: 3 Insufficient cpu."; err.Error() != want || res.Summary != want {
		t.Errorf("got %q / %q", err, res.Summary)
	}
	if _, err := Schedule(p, snap, Config{Scoring: "x"}, rand.New(rand.NewSource(1))); err == nil || errors.As(err, &fe) {
		t.Errorf("bad config: got %v", err)
	}
	if _, err := Schedule(p, NewSnapshot(nil, nil), Config{}, rand.New(rand.NewSource(1))); !errors.Is(err, ErrNoNodes) {
		t.Errorf("no nodes: got %v", err)
	}
}

func TestScheduleBindLoop(t *testing.T) {
	// Spreading with Assume: 30 pods over 3 equal nodes land 10 each.
	snap := uniformCluster(t, 3)
	rnd := rand.New(rand.NewSource(7))
	for i := range 30 {
		p := makePod(nil, fmt.Sprintf("p%d", i), map[string]string{"cpu": "1", "mem": "1Gi"})
		res, err := Schedule(p, snap, Config{}, rnd)
		if err != nil {
			t.Fatal(err)
		}
		snap.Assume(p, res.Node)
	}
	for _, n := range snap.Nodes {
		if len(n.Pods()) != 10 {
			t.Errorf("%s has %d pods, want 10", n.Name(), len(n.Pods()))
		}
	}
}
