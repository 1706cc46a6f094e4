package podsecurity

import (
	"fmt"
	"strconv"
	"strings"
)

// Level is a Pod Security Standards level.
type Level string

// The three levels, from least to most restrictive.
const (
	LevelPrivileged Level = "privileged"
	LevelBaseline   Level = "baseline"
	LevelRestricted Level = "restricted"
)

// ParseLevel reads a level as the namespace labels spell it.
func ParseLevel(s string) (Level, error) {
	switch l := Level(s); l {
	case LevelPrivileged, LevelBaseline, LevelRestricted:
		return l, nil
	}
	return "", fmt.Errorf("must be one of %s, %s, %s", LevelPrivileged, LevelBaseline, LevelRestricted)
}

// Version is a policy version: "latest" or a Kubernetes minor version
// v1.N, which selects the checks as they were in that release.
type Version struct {
	// minor is N of v1.N; unused when latest.
	minor  int
	latest bool
}

// Latest is the newest version of every check.
func Latest() Version { return Version{latest: true} }

// MinorVersion is v1.minor.
func MinorVersion(minor int) Version { return Version{minor: minor} }

// IsLatest reports whether v is "latest".
func (v Version) IsLatest() bool { return v.latest }

// String spells the version as the labels do.
func (v Version) String() string {
	if v.latest {
		return "latest"
	}
	return fmt.Sprintf("v1.%d", v.minor)
}

// atLeast reports whether v includes the changes of v1.minor.
func (v Version) atLeast(minor int) bool { return v.latest || v.minor >= minor }

// ParseVersion reads "latest" or "v1.N".
func ParseVersion(s string) (Version, error) {
	if s == "latest" {
		return Latest(), nil
	}
	rest, ok := strings.CutPrefix(s, "v1.")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n < 0 || strconv.Itoa(n) != rest {
		return Version{}, fmt.Errorf(`must be "latest" or "v1.x"`)
	}
	return MinorVersion(n), nil
}

// LevelVersion is a level at a version, as in "restricted:latest".
type LevelVersion struct {
	Level   Level
	Version Version
}

// String spells the pair as upstream's messages do.
func (lv LevelVersion) String() string { return string(lv.Level) + ":" + lv.Version.String() }

// The namespace labels that choose the policy.
const (
	LabelPrefix = "pod-security.kubernetes.io/"
	// Mode label keys; each has a "-version" companion.
	LabelEnforce = LabelPrefix + "enforce"
	LabelAudit   = LabelPrefix + "audit"
	LabelWarn    = LabelPrefix + "warn"
)

// Policy is a namespace's level for each mode.
type Policy struct {
	Enforce, Audit, Warn LevelVersion
}

// LabelError is one invalid policy label.
type LabelError struct {
	Key, Value, Reason string
}

func (e LabelError) Error() string {
	return fmt.Sprintf("%s: invalid value %q: %s", e.Key, e.Value, e.Reason)
}

// PolicyFromLabels reads a namespace's policy. Absent labels mean
// privileged at latest. An invalid level is read as restricted and an
// invalid version as latest (failing closed, as upstream does); each
// invalid label is also returned as an error.
func PolicyFromLabels(labels map[string]string) (Policy, []LabelError) {
	var errs []LabelError
	mode := func(key string) LevelVersion {
		lv := LevelVersion{Level: LevelPrivileged, Version: Latest()}
		if v, ok := labels[key]; ok {
			l, err := ParseLevel(v)
			if err != nil {
				errs = append(errs, LabelError{Key: key, Value: v, Reason: err.Error()})
				l = LevelRestricted
			}
			lv.Level = l
		}
		if v, ok := labels[key+"-version"]; ok {
			ver, err := ParseVersion(v)
			if err != nil {
				errs = append(errs, LabelError{Key: key + "-version", Value: v, Reason: err.Error()})
				ver = Latest()
			}
			lv.Version = ver
		}
		return lv
	}
	p := Policy{Enforce: mode(LabelEnforce), Audit: mode(LabelAudit), Warn: mode(LabelWarn)}
	return p, errs
}
