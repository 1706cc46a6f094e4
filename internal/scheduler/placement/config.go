package placement

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
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

// LoadConfig parses a scheduler config file. Two forms are accepted: Skiff's
// own (the Config fields, strictly), or a subset of upstream's
// KubeSchedulerConfiguration (first profile: score plugin weights and
// disables, NodeResourcesFit scoringStrategy, InterPodAffinity
// hardPodAffinityWeight, percentageOfNodesToScore).
func LoadConfig(data []byte) (Config, error) {
	var head struct {
		Kind string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return Config{}, fmt.Errorf("scheduler config: %w", err)
	}
	var cfg Config
	if head.Kind == "KubeSchedulerConfiguration" {
		c, err := fromUpstream(data)
		if err != nil {
			return Config{}, fmt.Errorf("scheduler config: %w", err)
		}
		cfg = c
	} else if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		return Config{}, fmt.Errorf("scheduler config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, fmt.Errorf("scheduler config: %w", err)
	}
	return cfg, nil
}

// upstreamConfig is the part of KubeSchedulerConfiguration we read.
type upstreamConfig struct {
	PercentageOfNodesToScore *int32 `json:"percentageOfNodesToScore"`
	Profiles                 []struct {
		PercentageOfNodesToScore *int32 `json:"percentageOfNodesToScore"`
		Plugins                  struct {
			Score struct {
				Enabled  []upstreamPlugin `json:"enabled"`
				Disabled []upstreamPlugin `json:"disabled"`
			} `json:"score"`
		} `json:"plugins"`
		PluginConfig []struct {
			Name string `json:"name"`
			Args struct {
				ScoringStrategy *struct {
					Type      ScoringStrategy  `json:"type"`
					Resources []ResourceWeight `json:"resources"`
				} `json:"scoringStrategy"`
				HardPodAffinityWeight *int64 `json:"hardPodAffinityWeight"`
			} `json:"args"`
		} `json:"pluginConfig"`
	} `json:"profiles"`
}

type upstreamPlugin struct {
	Name   string `json:"name"`
	Weight int64  `json:"weight"`
}

func fromUpstream(data []byte) (Config, error) {
	var u upstreamConfig
	if err := yaml.Unmarshal(data, &u); err != nil {
		return Config{}, err
	}
	var cfg Config
	if u.PercentageOfNodesToScore != nil {
		cfg.PercentageOfNodesToScore = *u.PercentageOfNodesToScore
	}
	if len(u.Profiles) == 0 {
		return cfg, nil
	}
	p := u.Profiles[0]
	if p.PercentageOfNodesToScore != nil {
		cfg.PercentageOfNodesToScore = *p.PercentageOfNodesToScore
	}
	cfg.Weights = map[string]int64{}
	for _, d := range p.Plugins.Score.Disabled {
		if d.Name == "*" {
			for name := range defaultWeights() {
				cfg.Weights[name] = 0
			}
			continue
		}
		cfg.Weights[d.Name] = 0
	}
	for _, e := range p.Plugins.Score.Enabled {
		w := e.Weight
		if w == 0 {
			w = max(defaultWeights()[e.Name], 1)
		}
		cfg.Weights[e.Name] = w
	}
	for _, pc := range p.PluginConfig {
		if s := pc.Args.ScoringStrategy; s != nil && pc.Name == ScoreResources {
			cfg.Scoring = s.Type
			cfg.Resources = slices.Clone(s.Resources)
		}
		if w := pc.Args.HardPodAffinityWeight; w != nil && pc.Name == ScoreInterPodAffinity {
			cfg.HardPodAffinityWeight = w
		}
	}
	return cfg, nil
}
