package placement

import (
	"math"

	corev1 "k8s.io/api/core/v1"
)

// maxScore is the best score a scorer gives.
const maxScore = 100

// Image locality thresholds (upstream's): below 23MB of present images
// scores 0, 1000MB per container scores 100.
const (
	imageMinThreshold          = 23 * 1024 * 1024
	imageMaxContainerThreshold = 1000 * 1024 * 1024
)

// scorer fills out[i] with 0..100 for nodes[i].
type scorer struct {
	name  string
	score func(c *cycle, nodes []*NodeInfo, out []int64)
}

// newScorers is the scoring chain; Config weights each one (0 skips it).
func newScorers() []scorer {
	return []scorer{
		{ScoreResources, scoreResources},         // LeastAllocated (spread) or MostAllocated (pack)
		{ScoreBalancedAllocation, scoreBalanced}, // resources used in similar fractions
		{ScoreNodeAffinity, scoreNodeAffinity},   // preferred node affinity weights
		{ScoreInterPodAffinity, scoreInterPod},   // preferred pod (anti-)affinity, both ways
		{ScoreTaintToleration, scoreTaints},      // fewer untolerated PreferNoSchedule taints
		{ScoreImageLocality, scoreImages},        // container images already on the node
		{ScoreTopologySpread, scoreSpread},       // ScheduleAnyway spread constraints
	}
}

// scoreTable holds the scores of the feasible nodes: totals[i] is node i's
// weighted sum, parts[i*len(names)+j] its score from scorer names[j].
type scoreTable struct {
	names  []string
	totals []int64
	parts  []int64
}

// score runs the enabled scorers over the feasible nodes.
func (c *cycle) score(nodes []*NodeInfo) scoreTable {
	var enabled []scorer
	var weights []int64
	t := scoreTable{totals: make([]int64, len(nodes))}
	for _, s := range newScorers() {
		if w := c.cfg.weight(s.name); w > 0 {
			t.names = append(t.names, s.name)
			enabled = append(enabled, s)
			weights = append(weights, w)
		}
	}
	k := len(enabled)
	t.parts = make([]int64, len(nodes)*k)
	out := make([]int64, len(nodes))
	for j, s := range enabled {
		clear(out)
		s.score(c, nodes, out)
		for i, v := range out {
			t.parts[i*k+j] = v
			t.totals[i] += weights[j] * v
		}
	}
	return t
}

// report returns the chosen node's score first, then up to limit-1 of the
// best others (by total, then name), for explanations.
func (t *scoreTable) report(nodes []*NodeInfo, chosen, limit int) []NodeScore {
	better := func(a, b int) bool {
		if t.totals[a] != t.totals[b] {
			return t.totals[a] > t.totals[b]
		}
		return nodes[a].Name() < nodes[b].Name()
	}
	top := make([]int, 0, limit)
	for i := range nodes {
		if i == chosen {
			continue
		}
		if len(top) == limit-1 && !better(i, top[len(top)-1]) {
			continue
		}
		pos := len(top)
		for pos > 0 && better(i, top[pos-1]) {
			pos--
		}
		if len(top) < limit-1 {
			top = append(top, 0)
		}
		copy(top[pos+1:], top[pos:])
		top[pos] = i
	}
	top = append([]int{chosen}, top...)
	k := len(t.names)
	out := make([]NodeScore, len(top))
	for r, i := range top {
		out[r] = NodeScore{Node: nodes[i].Name(), Total: t.totals[i], Parts: t.parts[i*k : (i+1)*k : (i+1)*k]}
	}
	return out
}

// allocation returns a resource's allocatable amount and what the node would
// have requested with the pod; nonZero uses the scoring defaults for
// cpu/memory.
func (c *cycle) allocation(n *NodeInfo, name corev1.ResourceName, nonZero bool) (alloc, req int64) {
	switch name {
	case corev1.ResourceCPU:
		if nonZero {
			return n.Allocatable.MilliCPU, n.nonZeroCPU + c.pi.nonZeroCPU
		}
		return n.Allocatable.MilliCPU, n.Requested.MilliCPU + c.pi.req.MilliCPU
	case corev1.ResourceMemory:
		if nonZero {
			return n.Allocatable.Memory, n.nonZeroMem + c.pi.nonZeroMem
		}
		return n.Allocatable.Memory, n.Requested.Memory + c.pi.req.Memory
	case corev1.ResourceEphemeralStorage:
		return n.Allocatable.EphemeralStorage, n.Requested.EphemeralStorage + c.pi.req.EphemeralStorage
	}
	return n.Allocatable.Scalar[name], n.Requested.Scalar[name] + c.pi.req.Scalar[name]
}

// scoreResources is LeastAllocated ((free after placing)/allocatable) or
// MostAllocated (requested/allocatable), weighted over the configured
// resources; resources the node lacks are skipped.
func scoreResources(c *cycle, nodes []*NodeInfo, out []int64) {
	most := c.cfg.Scoring == MostAllocated
	rws := c.cfg.resources()
	for i, n := range nodes {
		var sum, weights int64
		for _, rw := range rws {
			alloc, req := c.allocation(n, rw.Name, true)
			if alloc == 0 {
				continue
			}
			var s int64
			switch {
			case most:
				s = min(req, alloc) * maxScore / alloc
			case req <= alloc:
				s = (alloc - req) * maxScore / alloc
			}
			sum += s * rw.Weight
			weights += rw.Weight
		}
		if weights > 0 {
			out[i] = sum / weights
		}
	}
}

// scoreBalanced is 100 × (1 − the standard deviation of the requested
// fractions of cpu and memory), with actual requests; pods requesting
// nothing get 0 everywhere, as upstream skips them.
func scoreBalanced(c *cycle, nodes []*NodeInfo, out []int64) {
	if c.pi.req.MilliCPU == 0 && c.pi.req.Memory == 0 {
		return
	}
	fr := make([]float64, 0, 2)
	for i, n := range nodes {
		fr = fr[:0]
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			alloc, req := c.allocation(n, name, false)
			if alloc > 0 {
				fr = append(fr, min(float64(req)/float64(alloc), 1))
			}
		}
		out[i] = int64((1 - stddev(fr)) * maxScore)
	}
}

func stddev(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	if len(xs) == 2 {
		return math.Abs(xs[0]-xs[1]) / 2
	}
	var mean, sum float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sum += (x - mean) * (x - mean)
	}
	return math.Sqrt(sum / float64(len(xs)))
}

// scoreTaints counts PreferNoSchedule taints the pod does not tolerate;
// fewer is better, scaled so nodes without any get 100.
func scoreTaints(c *cycle, nodes []*NodeInfo, out []int64) {
	var tols []corev1.Toleration
	for _, t := range c.pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule {
			tols = append(tols, t)
		}
	}
	for i, n := range nodes {
		for j := range n.Node.Spec.Taints {
			t := &n.Node.Spec.Taints[j]
			if t.Effect == corev1.TaintEffectPreferNoSchedule && !tolerated(tols, t) {
				out[i]++
			}
		}
	}
	normalize(out, true)
}

// scoreImages favours nodes that already hold the pod's images, each image
// counted by its size scaled by the share of nodes holding it (so images on
// every node do not dominate).
func scoreImages(c *cycle, nodes []*NodeInfo, out []int64) {
	total := len(c.snap.Nodes)
	var images []string
	for _, cs := range [][]corev1.Container{c.pod.Spec.InitContainers, c.pod.Spec.Containers} {
		for i := range cs {
			images = append(images, normalizeImage(cs[i].Image))
		}
	}
	if len(images) == 0 || total == 0 {
		return
	}
	maxThreshold := int64(imageMaxContainerThreshold * len(images))
	for i, n := range nodes {
		var sum int64
		for _, img := range images {
			if size, ok := n.images[img]; ok {
				sum += int64(float64(size) * float64(c.snap.imageNodes[img]) / float64(total))
			}
		}
		sum = min(max(sum, imageMinThreshold), maxThreshold)
		out[i] = maxScore * (sum - imageMinThreshold) / (maxThreshold - imageMinThreshold)
	}
}

// normalize scales scores to 0..100 by the maximum; reverse makes fewer
// better. All zero stays 0 (or becomes 100 when reversed).
func normalize(out []int64, reverse bool) {
	var m int64
	for _, s := range out {
		m = max(m, s)
	}
	for i, s := range out {
		switch {
		case m == 0 && reverse:
			out[i] = maxScore
		case m == 0:
			out[i] = 0
		case reverse:
			out[i] = maxScore - maxScore*s/m
		default:
			out[i] = maxScore * s / m
		}
	}
}

// normalizeMinMax scales min..max to 0..100 (all 0 when equal).
func normalizeMinMax(out []int64) {
	if len(out) == 0 {
		return
	}
	lo, hi := out[0], out[0]
	for _, s := range out {
		lo, hi = min(lo, s), max(hi, s)
	}
	for i, s := range out {
		if hi == lo {
			out[i] = 0
			continue
		}
		out[i] = maxScore * (s - lo) / (hi - lo)
	}
}
