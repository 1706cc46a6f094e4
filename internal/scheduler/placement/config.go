package placement

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// ScoringStrategy says how resource usage is scored.
type ScoringStrategy string

// Scoring strategies.
const (
	// LeastAllocated prefers emptier nodes (spreading); the default.
	LeastAllocated ScoringStrategy = "LeastAllocated"
	// MostAllocated prefers fuller nodes (bin packing).
	MostAllocated ScoringStrategy = "MostAllocated"
)

// Scorer names, as upstream names the plugins; keys of Config.Weights.
const (
	ScoreResources          = "NodeResourcesFit"
	ScoreBalancedAllocation = "NodeResourcesBalancedAllocation"
	ScoreNodeAffinity       = "NodeAffinity"
	ScoreInterPodAffinity   = "InterPodAffinity"
	ScoreTaintToleration    = "TaintToleration"
	ScoreImageLocality      = "ImageLocality"
	ScoreTopologySpread     = "PodTopologySpread"
)

// defaultWeights are upstream's default score plugin weights.
func defaultWeights() map[string]int64 {
	return map[string]int64{
		ScoreResources:          1,
		ScoreBalancedAllocation: 1,
		ScoreImageLocality:      1,
		ScoreInterPodAffinity:   2,
		ScoreNodeAffinity:       2,
		ScoreTopologySpread:     2,
		ScoreTaintToleration:    3,
	}
}

// ResourceWeight weights one resource in the allocation scores.
type ResourceWeight struct {
	Name   corev1.ResourceName `json:"name"`
	Weight int64               `json:"weight"`
}

// Config tunes scoring. The zero value is upstream's default profile.
type Config struct {
	// Scoring is LeastAllocated (default) or MostAllocated.
	Scoring ScoringStrategy `json:"scoring,omitempty"`
	// Resources weighs resources in the allocation scores (default cpu=1, memory=1).
	Resources []ResourceWeight `json:"resources,omitempty"`
	// Weights by scorer name; a missing scorer keeps its default, 0 disables it.
	Weights map[string]int64 `json:"weights,omitempty"`
	// PercentageOfNodesToScore stops filtering once this share of nodes is
	// feasible (at least 100 nodes). 0 adapts to the cluster size as upstream
	// does (50% minus 1% per 125 nodes, at least 5%); 100 checks every node.
	PercentageOfNodesToScore int32 `json:"percentageOfNodesToScore,omitempty"`
	// HardPodAffinityWeight scores existing pods' required affinity to the
	// incoming pod (default 1).
	HardPodAffinityWeight *int64 `json:"hardPodAffinityWeight,omitempty"`
}

// weight returns the effective weight of a scorer.
func (c *Config) weight(name string) int64 {
	if w, ok := c.Weights[name]; ok {
		return w
	}
	return defaultWeight(name)
}

// defaultWeight is defaultWeights()[name] without building the map.
func defaultWeight(name string) int64 {
	switch name {
	case ScoreResources, ScoreBalancedAllocation, ScoreImageLocality:
		return 1
	case ScoreInterPodAffinity, ScoreNodeAffinity, ScoreTopologySpread:
		return 2
	case ScoreTaintToleration:
		return 3
	}
	return 0
}

func (c *Config) hardAffinityWeight() int64 {
	if c.HardPodAffinityWeight == nil {
		return 1
	}
	return *c.HardPodAffinityWeight
}

func (c *Config) resources() []ResourceWeight {
	if len(c.Resources) == 0 {
		return []ResourceWeight{{corev1.ResourceCPU, 1}, {corev1.ResourceMemory, 1}}
	}
	return c.Resources
}

// Validate reports a configuration error.
func (c *Config) Validate() error {
	switch c.Scoring {
	case "", LeastAllocated, MostAllocated:
	default:
		return fmt.Errorf("scoring %q: want %s or %s", c.Scoring, LeastAllocated, MostAllocated)
	}
	known := defaultWeights()
	for name, w := range c.Weights {
		if _, ok := known[name]; !ok {
			return fmt.Errorf("weights: unknown scorer %q", name)
		}
		if w < 0 || w > 100 {
			return fmt.Errorf("weights: %s=%d out of range 0..100", name, w)
		}
	}
	for _, r := range c.Resources {
		if r.Weight < 1 || r.Weight > 100 {
			return fmt.Errorf("resources: %s weight %d out of range 1..100", r.Name, r.Weight)
		}
	}
	if c.PercentageOfNodesToScore < 0 || c.PercentageOfNodesToScore > 100 {
		return fmt.Errorf("percentageOfNodesToScore %d out of range 0..100", c.PercentageOfNodesToScore)
	}
	if w := c.HardPodAffinityWeight; w != nil && (*w < 0 || *w > 100) {
		return fmt.Errorf("hardPodAffinityWeight %d out of range 0..100", *w)
	}
	return nil
}
