package audit

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// Level is how much of a request is recorded.
type Level string

// Levels, from least to most.
const (
	LevelNone            Level = "None"
	LevelMetadata        Level = "Metadata"
	LevelRequest         Level = "Request"
	LevelRequestResponse Level = "RequestResponse"
)

// AtLeast reports whether l records at least as much as other.
func (l Level) AtLeast(other Level) bool { return l.rank() >= other.rank() }

func (l Level) rank() int {
	switch l {
	case LevelMetadata:
		return 1
	case LevelRequest:
		return 2
	case LevelRequestResponse:
		return 3
	}
	return 0
}

// Stage is the point of a request's life an event describes.
type Stage string

// Stages.
const (
	StageRequestReceived  Stage = "RequestReceived"
	StageResponseStarted  Stage = "ResponseStarted"
	StageResponseComplete Stage = "ResponseComplete"
	StagePanic            Stage = "Panic"
)

// Policy file format constants.
const (
	PolicyAPIVersion = "audit.k8s.io/v1"
	PolicyKind       = "Policy"
)

// Policy is an audit policy file.
type Policy struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Metadata is accepted and ignored (policies often carry a name).
	Metadata map[string]any `json:"metadata,omitempty"`
	// Rules are tried in order; the first that matches sets the level.
	Rules []PolicyRule `json:"rules"`
	// OmitStages are never recorded, for any rule.
	OmitStages []Stage `json:"omitStages,omitempty"`
	// OmitManagedFields is accepted for compatibility; Skiff's events
	// never hold managed fields beyond what the request body held.
	OmitManagedFields bool `json:"omitManagedFields,omitempty"`
}

// PolicyRule matches requests; unset fields match everything.
type PolicyRule struct {
	Level      Level    `json:"level"`
	Users      []string `json:"users,omitempty"`
	UserGroups []string `json:"userGroups,omitempty"`
	Verbs      []string `json:"verbs,omitempty"`
	// Resources and Namespaces match resource requests only.
	Resources  []GroupResources `json:"resources,omitempty"`
	Namespaces []string         `json:"namespaces,omitempty"`
	// NonResourceURLs match non-resource requests only: exact paths, or
	// prefixes ending in "*".
	NonResourceURLs   []string `json:"nonResourceURLs,omitempty"`
	OmitStages        []Stage  `json:"omitStages,omitempty"`
	OmitManagedFields *bool    `json:"omitManagedFields,omitempty"`
}

// GroupResources selects resources of one API group.
type GroupResources struct {
	Group string `json:"group"`
	// Resources: "pods", "pods/log", "pods/*", "*/scale", "*"; empty
	// means every resource of the group.
	Resources     []string `json:"resources,omitempty"`
	ResourceNames []string `json:"resourceNames,omitempty"`
}

// Attributes are what a rule looks at.
type Attributes struct {
	User            string
	Groups          []string
	Verb            string
	ResourceRequest bool
	APIGroup        string
	Resource        string
	Subresource     string
	Namespace       string
	Name            string
	Path            string
}

// Decision is a policy's answer for one request.
type Decision struct {
	Level      Level
	OmitStages []Stage
}

// Omits reports whether stage is not recorded.
func (d Decision) Omits(stage Stage) bool { return slices.Contains(d.OmitStages, stage) }

// LoadPolicyFile reads and validates a policy file; an empty file is a
// policy without rules (nothing is recorded).
func LoadPolicyFile(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading audit policy: %w", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return &Policy{APIVersion: PolicyAPIVersion, Kind: PolicyKind}, nil // empty: auditing off
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("audit policy %s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy decodes a policy strictly and validates it.
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	if err := yaml.UnmarshalStrict(data, &p); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// Validate checks the header, levels, stages and rule shapes.
func (p *Policy) Validate() error {
	if p.Kind != PolicyKind || (p.APIVersion != PolicyAPIVersion && p.APIVersion != "audit.k8s.io/v1beta1") {
		return fmt.Errorf("want apiVersion %s and kind %s, got %q %q", PolicyAPIVersion, PolicyKind, p.APIVersion, p.Kind)
	}
	if err := validStages(p.OmitStages); err != nil {
		return fmt.Errorf("omitStages: %w", err)
	}
	for i, r := range p.Rules {
		if r.Level.rank() == 0 && r.Level != LevelNone {
			return fmt.Errorf("rules[%d]: unknown level %q", i, r.Level)
		}
		if len(r.NonResourceURLs) > 0 && (len(r.Resources) > 0 || len(r.Namespaces) > 0) {
			return fmt.Errorf("rules[%d]: nonResourceURLs cannot be combined with resources or namespaces", i)
		}
		for _, u := range r.NonResourceURLs {
			if i := strings.Index(u, "*"); i >= 0 && i != len(u)-1 {
				return fmt.Errorf("rules[%d]: nonResourceURL %q: only a trailing * is allowed", i, u)
			}
		}
		if err := validStages(r.OmitStages); err != nil {
			return fmt.Errorf("rules[%d].omitStages: %w", i, err)
		}
	}
	return nil
}

func validStages(stages []Stage) error {
	for _, s := range stages {
		switch s {
		case StageRequestReceived, StageResponseStarted, StageResponseComplete, StagePanic:
		default:
			return fmt.Errorf("unknown stage %q", s)
		}
	}
	return nil
}

// Evaluate returns the level and omitted stages of the first rule that
// matches a; no match means LevelNone.
func (p *Policy) Evaluate(a Attributes) Decision {
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.matches(a) {
			omit := p.OmitStages
			if len(r.OmitStages) > 0 {
				omit = append(slices.Clone(omit), r.OmitStages...)
			}
			return Decision{Level: r.Level, OmitStages: omit}
		}
	}
	return Decision{Level: LevelNone, OmitStages: p.OmitStages}
}

func (r *PolicyRule) matches(a Attributes) bool {
	if len(r.Users) > 0 && !slices.Contains(r.Users, a.User) {
		return false
	}
	if len(r.UserGroups) > 0 && !slices.ContainsFunc(a.Groups, func(g string) bool { return slices.Contains(r.UserGroups, g) }) {
		return false
	}
	if len(r.Verbs) > 0 && !slices.Contains(r.Verbs, a.Verb) {
		return false
	}
	if len(r.Resources) > 0 || len(r.Namespaces) > 0 {
		return a.ResourceRequest && r.matchesResource(a)
	}
	if len(r.NonResourceURLs) > 0 {
		return !a.ResourceRequest && matchesURL(r.NonResourceURLs, a.Path)
	}
	return true
}

func (r *PolicyRule) matchesResource(a Attributes) bool {
	if len(r.Namespaces) > 0 && !slices.Contains(r.Namespaces, a.Namespace) {
		return false
	}
	if len(r.Resources) == 0 {
		return true
	}
	combined := a.Resource
	if a.Subresource != "" {
		combined += "/" + a.Subresource
	}
	for _, gr := range r.Resources {
		if gr.Group != a.APIGroup {
			continue
		}
		if len(gr.ResourceNames) > 0 && !slices.Contains(gr.ResourceNames, a.Name) {
			continue
		}
		if len(gr.Resources) == 0 || slices.ContainsFunc(gr.Resources, func(res string) bool { return resourceMatches(res, a.Resource, a.Subresource, combined) }) {
			return true
		}
	}
	return false
}

// resourceMatches matches one rule entry against a request's resource.
func resourceMatches(entry, resource, subresource, combined string) bool {
	switch {
	case entry == "*" || entry == combined:
		return true
	case strings.HasPrefix(entry, "*/"):
		return subresource != "" && entry[2:] == subresource
	case strings.HasSuffix(entry, "/*"):
		return entry[:len(entry)-2] == resource
	}
	return false
}

func matchesURL(patterns []string, path string) bool {
	for _, p := range patterns {
		if p == "*" || p == path || (strings.HasSuffix(p, "*") && strings.HasPrefix(path, p[:len(p)-1])) {
			return true
		}
	}
	return false
}

// DefaultPolicy records Metadata for every request except the health
// endpoints, Events, and the lease renewals of nodes and of Skiff's own
// components; it omits the RequestReceived stage (ResponseComplete holds
// everything it would).
func DefaultPolicy() *Policy {
	leases := []GroupResources{{Group: "coordination.k8s.io", Resources: []string{"leases"}}}
	return &Policy{
		APIVersion: PolicyAPIVersion, Kind: PolicyKind,
		OmitStages: []Stage{StageRequestReceived},
		Rules: []PolicyRule{
			{Level: LevelNone, NonResourceURLs: []string{"/healthz*", "/livez*", "/readyz*"}},
			{Level: LevelNone, Resources: []GroupResources{{Group: "", Resources: []string{"events"}}, {Group: "events.k8s.io", Resources: []string{"events"}}}},
			{Level: LevelNone, UserGroups: []string{"system:nodes"}, Verbs: []string{"get", "update", "patch"}, Resources: leases},
			{Level: LevelNone, Users: []string{"system:kube-scheduler", "system:kube-controller-manager"}, Verbs: []string{"get", "update"}, Resources: leases},
			{Level: LevelMetadata},
		},
	}
}
