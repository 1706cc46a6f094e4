package placement

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// DefaultProfileName is the schedulerName of the profile a config file
// without names configures (and the pods' default schedulerName).
const DefaultProfileName = "default-scheduler"

// upstreamAPIVersion is the KubeSchedulerConfiguration version read.
const upstreamAPIVersion = "kubescheduler.config.k8s.io/v1"

// Profile is the placement configuration of one schedulerName: a pod is
// placed with the profile its spec.schedulerName names.
type Profile struct {
	SchedulerName string `json:"schedulerName"`
	Config
}

// LoadProfiles parses a scheduler config file. Three forms are accepted:
//
//   - Skiff's own, one profile: the Config fields (scoring, resources,
//     weights, percentageOfNodesToScore, hardPodAffinityWeight), strictly;
//   - Skiff's own, several: `profiles:` a list of those fields plus
//     schedulerName;
//   - upstream's KubeSchedulerConfiguration (kind set): per profile the
//     score plugins' weights and disables (plugins.score or
//     plugins.multiPoint), NodeResourcesFit's scoringStrategy,
//     InterPodAffinity's hardPodAffinityWeight and
//     percentageOfNodesToScore. Filters cannot be switched off; other
//     settings are rejected rather than silently ignored.
//
// Every profile is validated; names must be unique (empty means
// DefaultProfileName).
func LoadProfiles(data []byte) ([]Profile, error) {
	var head struct {
		Kind     string          `json:"kind"`
		Profiles json.RawMessage `json:"profiles"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("scheduler config: %w", err)
	}
	var (
		profiles []Profile
		err      error
	)
	switch {
	case head.Kind != "":
		profiles, err = fromUpstream(data)
	case head.Profiles != nil:
		var own struct {
			Profiles []Profile `json:"profiles"`
		}
		err = yaml.UnmarshalStrict(data, &own)
		profiles = own.Profiles
	default:
		var cfg Config
		err = yaml.UnmarshalStrict(data, &cfg)
		profiles = []Profile{{Config: cfg}}
	}
	if err != nil {
		return nil, fmt.Errorf("scheduler config: %w", err)
	}
	if err := checkProfiles(profiles); err != nil {
		return nil, fmt.Errorf("scheduler config: %w", err)
	}
	return profiles, nil
}

// LoadConfig parses a scheduler config file (see LoadProfiles) and returns
// the configuration of the default-scheduler profile, or of the first.
func LoadConfig(data []byte) (Config, error) {
	profiles, err := LoadProfiles(data)
	if err != nil {
		return Config{}, err
	}
	for _, p := range profiles {
		if p.SchedulerName == DefaultProfileName {
			return p.Config, nil
		}
	}
	return profiles[0].Config, nil
}

// checkProfiles names unnamed profiles and validates each.
func checkProfiles(profiles []Profile) error {
	if len(profiles) == 0 {
		return errors.New("profiles: at least one profile is required")
	}
	seen := map[string]bool{}
	for i := range profiles {
		p := &profiles[i]
		if p.SchedulerName == "" {
			p.SchedulerName = DefaultProfileName
		}
		if seen[p.SchedulerName] {
			return fmt.Errorf("profiles: schedulerName %q appears twice", p.SchedulerName)
		}
		seen[p.SchedulerName] = true
		if err := p.Validate(); err != nil {
			return fmt.Errorf("profile %q: %w", p.SchedulerName, err)
		}
	}
	return nil
}

// upstreamConfig is the part of KubeSchedulerConfiguration read.
type upstreamConfig struct {
	APIVersion               string            `json:"apiVersion"`
	PercentageOfNodesToScore *int32            `json:"percentageOfNodesToScore"`
	Profiles                 []upstreamProfile `json:"profiles"`
}

type upstreamProfile struct {
	SchedulerName            string                     `json:"schedulerName"`
	PercentageOfNodesToScore *int32                     `json:"percentageOfNodesToScore"`
	Plugins                  map[string]upstreamPlugins `json:"plugins"`
	PluginConfig             []upstreamPluginConfig     `json:"pluginConfig"`
}

type upstreamPlugins struct {
	Enabled  []upstreamPlugin `json:"enabled"`
	Disabled []upstreamPlugin `json:"disabled"`
}

type upstreamPlugin struct {
	Name   string `json:"name"`
	Weight int64  `json:"weight"`
}

type upstreamPluginConfig struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

// Arguments of the plugins whose configuration is read.
type resourcesFitArgs struct {
	ScoringStrategy *struct {
		Type      ScoringStrategy  `json:"type"`
		Resources []ResourceWeight `json:"resources"`
	} `json:"scoringStrategy"`
}

type interPodAffinityArgs struct {
	HardPodAffinityWeight *int64 `json:"hardPodAffinityWeight"`
}

func fromUpstream(data []byte) ([]Profile, error) {
	var u upstreamConfig
	if err := yaml.Unmarshal(data, &u); err != nil {
		return nil, err
	}
	if u.APIVersion != "" && u.APIVersion != upstreamAPIVersion {
		return nil, fmt.Errorf("apiVersion %q: want %s", u.APIVersion, upstreamAPIVersion)
	}
	if len(u.Profiles) == 0 {
		u.Profiles = []upstreamProfile{{}}
	}
	out := make([]Profile, 0, len(u.Profiles))
	for _, up := range u.Profiles {
		p := Profile{SchedulerName: up.SchedulerName}
		if u.PercentageOfNodesToScore != nil {
			p.PercentageOfNodesToScore = *u.PercentageOfNodesToScore
		}
		if up.PercentageOfNodesToScore != nil {
			p.PercentageOfNodesToScore = *up.PercentageOfNodesToScore
		}
		if err := p.readUpstream(&up); err != nil {
			name := cmp.Or(up.SchedulerName, DefaultProfileName)
			return nil, fmt.Errorf("profile %q: %w", name, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// readUpstream reads one upstream profile's plugins and plugin config.
func (p *Profile) readUpstream(up *upstreamProfile) error {
	p.Weights = map[string]int64{}
	for _, point := range sortedKeys(up.Plugins) {
		if point != "score" && point != "multiPoint" {
			return fmt.Errorf("plugins.%s: only score plugins can be configured (Skiff's filters always run)", point)
		}
		set := up.Plugins[point]
		for _, d := range set.Disabled {
			if d.Name == "*" {
				for name := range defaultWeights() {
					p.Weights[name] = 0
				}
				continue
			}
			if err := knownScorer(point, d.Name); err != nil {
				return err
			}
			p.Weights[d.Name] = 0
		}
		for _, e := range set.Enabled {
			if err := knownScorer(point, e.Name); err != nil {
				return err
			}
			w := e.Weight
			if w == 0 {
				w = max(defaultWeight(e.Name), 1)
			}
			p.Weights[e.Name] = w
		}
	}
	for _, pc := range up.PluginConfig {
		if err := p.readPluginArgs(pc); err != nil {
			return fmt.Errorf("pluginConfig %s: %w", pc.Name, err)
		}
	}
	return nil
}

func (p *Profile) readPluginArgs(pc upstreamPluginConfig) error {
	switch pc.Name {
	case ScoreResources:
		var a resourcesFitArgs
		if err := strictJSON(pc.Args, &a); err != nil {
			return err
		}
		if s := a.ScoringStrategy; s != nil {
			p.Scoring = s.Type
			p.Resources = slices.Clone(s.Resources)
		}
	case ScoreInterPodAffinity:
		var a interPodAffinityArgs
		if err := strictJSON(pc.Args, &a); err != nil {
			return err
		}
		p.HardPodAffinityWeight = a.HardPodAffinityWeight
	default:
		return fmt.Errorf("arguments are read only for %s and %s", ScoreResources, ScoreInterPodAffinity)
	}
	return nil
}

// knownScorer rejects a plugin name that is not one of the scorers.
func knownScorer(point, name string) error {
	if _, ok := defaultWeights()[name]; ok {
		return nil
	}
	return fmt.Errorf("plugins.%s: unknown score plugin %q (known: %s)", point, name, strings.Join(sortedKeys(defaultWeights()), ", "))
}

// strictJSON decodes data (nil is fine) into v, rejecting unknown fields.
func strictJSON(data json.RawMessage, v any) error {
	if len(data) == 0 {
		return nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("args: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
