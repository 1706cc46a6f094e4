package placement

import (
	"errors"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// minNodesToFind is the fewest feasible nodes looked for before sampling
// stops filtering (upstream's figure).
const minNodesToFind = 100

// maxReportedScores bounds Result.Scores: the chosen node and the best others.
const maxReportedScores = 10

// ErrNoNodes is returned when the snapshot has no nodes at all.
var ErrNoNodes = errors.New("no nodes available to schedule pods")

// Result is one scheduling decision and its explanation.
type Result struct {
	// Node is the chosen node ("" when no node fits).
	Node string
	// Scorers names the weighted scorers, in the order of NodeScore.Parts.
	Scorers []string
	// Scores lists the chosen node first, then up to 9 of the best other
	// feasible nodes (by total, then name).
	Scores []NodeScore
	// Feasible is the number of feasible nodes found; Evaluated the number
	// of nodes filtered (fewer than all when sampling stopped early).
	Feasible, Evaluated int
	// Reasons maps each rejected node to why it was rejected.
	Reasons map[string][]string
	// Summary is a one-line explanation for events and logs.
	Summary string
}

// NodeScore is a feasible node's weighted total and its per-scorer scores
// (0..100, before weighting).
type NodeScore struct {
	Node  string
	Total int64
	Parts []int64
}

// FitError says that no node fits, with every rejected node's reasons.
type FitError struct {
	NumNodes int
	Reasons  map[string][]string
	// PreFilterMsg, when set, rejected the pod before looking at nodes
	// (for example a missing PersistentVolumeClaim).
	PreFilterMsg string
}

// Error reads like upstream's: "0/5 nodes are available: 3 Insufficient cpu,
// 2 node(s) had untolerated taint {k: v}." with "<count> <reason>" entries
// sorted as strings.
func (e *FitError) Error() string {
	msg := fmt.Sprintf("0/%d nodes are available:", e.NumNodes)
	if e.PreFilterMsg != "" {
		return msg + " " + e.PreFilterMsg + "."
	}
	return msg + " " + strings.Join(ReasonHistogram(e.Reasons), ", ") + "."
}

// ReasonHistogram counts nodes per reason and returns "<count> <reason>"
// strings sorted lexicographically, as upstream orders them.
func ReasonHistogram(reasons map[string][]string) []string {
	counts := map[string]int{}
	for _, rs := range reasons {
		for _, r := range rs {
			counts[r]++
		}
	}
	out := make([]string, 0, len(counts))
	for r, n := range counts {
		out = append(out, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(out)
	return out
}

// Schedule picks a node for pod. The error is a *FitError when no node fits.
// rnd breaks score ties and picks where sampling starts.
func Schedule(pod *corev1.Pod, snap *Snapshot, cfg Config, rnd *rand.Rand) (Result, error) {
	if err := cfg.Validate(); err != nil {
		return Result{}, fmt.Errorf("schedule %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	if len(snap.Nodes) == 0 {
		return Result{Summary: ErrNoNodes.Error()}, ErrNoNodes
	}
	c, preMsg := newCycle(pod, snap, &cfg)
	if preMsg != "" {
		fe := &FitError{NumNodes: len(snap.Nodes), PreFilterMsg: preMsg}
		return Result{Summary: fe.Error()}, fe
	}
	feasible, res := c.findFeasible(rnd)
	if len(feasible) == 0 {
		fe := &FitError{NumNodes: len(snap.Nodes), Reasons: res.Reasons}
		res.Summary = fe.Error()
		return res, fe
	}
	table := c.score(feasible)
	chosen := selectHost(table.totals, rnd)
	res.Node = feasible[chosen].Name()
	res.Scorers = table.names
	res.Scores = table.report(feasible, chosen, maxReportedScores)
	res.Summary = summary(&res, len(snap.Nodes))
	return res, nil
}

// numFeasibleToFind is how many feasible nodes are enough to stop filtering.
func numFeasibleToFind(cfg *Config, numNodes int) int {
	if numNodes <= minNodesToFind || cfg.PercentageOfNodesToScore >= 100 {
		return numNodes
	}
	pct := int(cfg.PercentageOfNodesToScore)
	if pct == 0 {
		pct = max(50-numNodes/125, 5)
	}
	return max(numNodes*pct/100, minNodesToFind)
}

// findFeasible runs the filters over the nodes, starting at a random node
// when sampling, until enough feasible nodes are found.
func (c *cycle) findFeasible(rnd *rand.Rand) ([]*NodeInfo, Result) {
	nodes := c.snap.Nodes
	want := numFeasibleToFind(c.cfg, len(nodes))
	start := 0
	if want < len(nodes) {
		start = rnd.Intn(len(nodes))
	}
	res := Result{Reasons: map[string][]string{}}
	feasible := make([]*NodeInfo, 0, min(want, len(nodes)))
	for i := 0; i < len(nodes) && len(feasible) < want; i++ {
		n := nodes[(start+i)%len(nodes)]
		res.Evaluated++
		if reasons := c.filter(n); reasons != nil {
			res.Reasons[n.Name()] = reasons
			continue
		}
		feasible = append(feasible, n)
	}
	res.Feasible = len(feasible)
	return feasible, res
}

// filter returns the reasons of the first filter that rejects n, or nil;
// pods nominated to n with at least the pod's priority count as placed.
func (c *cycle) filter(n *NodeInfo) []string {
	n = c.withNominated(n)
	for _, f := range c.filters {
		if r := f.check(c, n); r != nil {
			return r
		}
	}
	return nil
}

// selectHost returns the index of the highest total, choosing uniformly
// among ties (reservoir sampling: one pass, one random draw per tie).
func selectHost(totals []int64, rnd *rand.Rand) int {
	best, ties := 0, 1
	for i := 1; i < len(totals); i++ {
		switch {
		case totals[i] > totals[best]:
			best, ties = i, 1
		case totals[i] == totals[best]:
			ties++
			if rnd.Intn(ties) == 0 {
				best = i
			}
		}
	}
	return best
}

func summary(r *Result, numNodes int) string {
	s := fmt.Sprintf("%s: score %d; %d/%d nodes feasible", r.Node, r.Scores[0].Total, r.Feasible, r.Evaluated)
	if r.Evaluated < numNodes {
		s += fmt.Sprintf(" (sampled %d of %d)", r.Evaluated, numNodes)
	}
	if len(r.Reasons) > 0 {
		s += "; rejected: " + strings.Join(ReasonHistogram(r.Reasons), ", ")
	}
	return s
}
