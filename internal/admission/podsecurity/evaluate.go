package podsecurity

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Violation is one control a pod fails.
type Violation struct {
	// Check is the control's identifier, e.g. "privileged".
	Check string
	// Reason is the short reason, e.g. "privileged".
	Reason string
	// Detail names what was wrong, e.g. `container "c" must not set
	// securityContext.privileged=true`; it may be empty.
	Detail string
}

// pod is what a check reads.
type pod struct {
	meta *metav1.ObjectMeta
	spec *corev1.PodSpec
	v    Version
}

// check is one control. run returns the reason and detail of a violation,
// or an empty reason when the pod passes.
type check struct {
	id    string
	level Level
	// since is the first minor version the control applies to.
	since int
	// baselineOnly marks baseline controls that a restricted control
	// replaces at the restricted level.
	baselineOnly bool
	run          func(p pod) (reason, detail string)
}

// checks lists the controls in the order their results are reported:
// upstream orders them by identifier, baseline controls first.
func checks() []check {
	return []check{
		{id: "appArmorProfile", level: LevelBaseline, run: appArmorProfile},
		{id: "capabilities_baseline", level: LevelBaseline, baselineOnly: true, run: capabilitiesBaseline},
		{id: "hostNamespaces", level: LevelBaseline, run: hostNamespaces},
		{id: "hostPathVolumes", level: LevelBaseline, baselineOnly: true, run: hostPathVolumes},
		{id: "hostPorts", level: LevelBaseline, run: hostPorts},
		{id: "hostProbesAndHostLifecycle", level: LevelBaseline, since: 34, run: hostProbesAndLifecycle},
		{id: "privileged", level: LevelBaseline, run: privileged},
		{id: "procMount", level: LevelBaseline, run: procMount},
		{id: "seLinuxOptions", level: LevelBaseline, run: seLinuxOptions},
		{id: "seccompProfile_baseline", level: LevelBaseline, baselineOnly: true, run: seccompBaseline},
		{id: "sysctls", level: LevelBaseline, run: sysctls},
		{id: "windowsHostProcess", level: LevelBaseline, run: windowsHostProcess},
		{id: "allowPrivilegeEscalation", level: LevelRestricted, since: 8, run: allowPrivilegeEscalation},
		{id: "capabilities_restricted", level: LevelRestricted, since: 22, run: capabilitiesRestricted},
		{id: "restrictedVolumes", level: LevelRestricted, run: restrictedVolumes},
		{id: "runAsNonRoot", level: LevelRestricted, run: runAsNonRoot},
		{id: "runAsUser", level: LevelRestricted, since: 23, run: runAsUser},
		{id: "seccompProfile_restricted", level: LevelRestricted, since: 19, run: seccompRestricted},
	}
}

// Evaluate returns the controls of level at version that the pod
// violates, in upstream's order. Privileged allows everything.
func Evaluate(lv LevelVersion, meta *metav1.ObjectMeta, spec *corev1.PodSpec) []Violation {
	if lv.Level == LevelPrivileged || spec == nil {
		return nil
	}
	if meta == nil {
		meta = &metav1.ObjectMeta{}
	}
	p := pod{meta: meta, spec: spec, v: lv.Version}
	var out []Violation
	for _, c := range checks() {
		if c.level == LevelRestricted && lv.Level != LevelRestricted {
			continue
		}
		if c.baselineOnly && lv.Level == LevelRestricted {
			continue
		}
		if !lv.Version.atLeast(c.since) {
			continue
		}
		if reason, detail := c.run(p); reason != "" {
			out = append(out, Violation{Check: c.id, Reason: reason, Detail: detail})
		}
	}
	return out
}

// Details joins violations as upstream's messages do:
// "reason (detail), reason, ...".
func Details(vs []Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Reason
		if v.Detail != "" {
			parts[i] += " (" + v.Detail + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// Reasons joins the violations' reasons only.
func Reasons(vs []Violation) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v.Reason
	}
	return strings.Join(parts, ", ")
}

// visitContainers calls f for init, regular and ephemeral containers, in
// that order. Ephemeral containers are reduced to their common fields.
func visitContainers(spec *corev1.PodSpec, f func(c *corev1.Container)) {
	for i := range spec.InitContainers {
		f(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		f(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		c := corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
		f(&c)
	}
}

// pluralize picks the singular or plural word for n.
func pluralize(singular, plural string, n int) string {
	if n == 1 {
		return singular
	}
	return plural
}

// joinQuote quotes each item and joins them with ", ".
func joinQuote(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// containersPhrase is `container "a"` or `containers "a", "b"`.
func containersPhrase(names []string) string {
	return pluralize("container", "containers", len(names)) + " " + joinQuote(names)
}

// setters names who set a bad value: "pod", `container "a"`, joined by
// " and ".
func setters(podBad bool, containers []string) string {
	var parts []string
	if podBad {
		parts = append(parts, "pod")
	}
	if len(containers) > 0 {
		parts = append(parts, containersPhrase(containers))
	}
	return strings.Join(parts, " and ")
}

// set is a small sorted set of strings.
type set map[string]bool

func (s set) sorted() []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// isWindows reports whether the pod declares the Windows OS, which some
// restricted controls skip from v1.25.
func (p pod) isWindows() bool {
	return p.v.atLeast(25) && p.spec.OS != nil && p.spec.OS.Name == corev1.Windows
}
