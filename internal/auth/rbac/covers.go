package rbac

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Covers reports whether the owner rules grant everything the servant
// rules grant. Each servant rule is broken into single-verb, single-group,
// single-resource (and single-name or single-URL) rules; those no owner rule
// covers are returned as missing.
func Covers(owner, servant []rbacv1.PolicyRule) (bool, []rbacv1.PolicyRule) {
	var missing []rbacv1.PolicyRule
	for _, r := range servant {
		for _, simple := range breakdown(r) {
			if !slices.ContainsFunc(owner, func(o rbacv1.PolicyRule) bool { return ruleCovers(&o, &simple) }) {
				missing = append(missing, simple)
			}
		}
	}
	return len(missing) == 0, missing
}

// breakdown splits a rule into rules of one verb and one group, resource and
// resource name each, plus rules of one verb and one non-resource URL.
func breakdown(r rbacv1.PolicyRule) []rbacv1.PolicyRule {
	var out []rbacv1.PolicyRule
	names := r.ResourceNames
	if len(names) == 0 {
		names = []string{""} // one pass, without a name
	}
	for _, group := range r.APIGroups {
		for _, resource := range r.Resources {
			for _, verb := range r.Verbs {
				for _, name := range names {
					simple := rbacv1.PolicyRule{Verbs: []string{verb}, APIGroups: []string{group}, Resources: []string{resource}}
					if name != "" {
						simple.ResourceNames = []string{name}
					}
					out = append(out, simple)
				}
			}
		}
	}
	for _, u := range r.NonResourceURLs {
		for _, verb := range r.Verbs {
			out = append(out, rbacv1.PolicyRule{Verbs: []string{verb}, NonResourceURLs: []string{u}})
		}
	}
	return out
}

// ruleCovers reports whether owner grants all that sub (a broken-down rule)
// grants.
func ruleCovers(owner, sub *rbacv1.PolicyRule) bool {
	return coversAllOrStar(owner.Verbs, sub.Verbs) &&
		coversAllOrStar(owner.APIGroups, sub.APIGroups) &&
		resourcesCover(owner.Resources, sub.Resources) &&
		namesCover(owner.ResourceNames, sub.ResourceNames) &&
		urlsCover(owner.NonResourceURLs, sub.NonResourceURLs)
}

// coversAllOrStar reports whether set holds "*" or every element of want.
func coversAllOrStar(set, want []string) bool {
	if slices.Contains(set, "*") {
		return true
	}
	for _, w := range want {
		if !slices.Contains(set, w) {
			return false
		}
	}
	return true
}

// resourcesCover reports whether set covers every resource of want: "*"
// covers all, a resource itself, and "*/sub" any "resource/sub".
func resourcesCover(set, want []string) bool {
	if slices.Contains(set, rbacv1.ResourceAll) {
		return true
	}
	for _, w := range want {
		if slices.Contains(set, w) {
			continue
		}
		_, sub, ok := strings.Cut(w, "/")
		if !ok || !slices.Contains(set, "*/"+sub) {
			return false
		}
	}
	return true
}

// namesCover reports whether an owner's resourceNames cover want's: an
// owner without names covers anything; an owner with names covers only
// requests limited to some of those names (names are literal, "*" is not a
// wildcard here).
func namesCover(set, want []string) bool {
	if len(set) == 0 {
		return true
	}
	if len(want) == 0 {
		return false
	}
	for _, w := range want {
		if !slices.Contains(set, w) {
			return false
		}
	}
	return true
}

// urlsCover reports whether every URL of want is covered by one of set,
// where "/a/*" covers "/a/b" and "/a/*" itself.
func urlsCover(set, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(set, func(o string) bool {
			return o == w || strings.HasSuffix(o, "*") && strings.HasPrefix(w, strings.TrimRight(o, "*"))
		}) {
			return false
		}
	}
	return true
}

// describeRules prints rules compactly, merging the verbs of rules that
// differ only in verbs, one rule a line, sorted.
func describeRules(rules []rbacv1.PolicyRule) string {
	type key struct{ groups, resources, names, urls string }
	merged := map[key]*rbacv1.PolicyRule{}
	var order []key
	for _, r := range rules {
		k := key{strings.Join(r.APIGroups, ","), strings.Join(r.Resources, ","), strings.Join(r.ResourceNames, ","), strings.Join(r.NonResourceURLs, ",")}
		if m, ok := merged[k]; ok {
			for _, v := range r.Verbs {
				if !slices.Contains(m.Verbs, v) {
					m.Verbs = append(m.Verbs, v)
				}
			}
			continue
		}
		c := r.DeepCopy()
		merged[k] = c
		order = append(order, k)
	}
	lines := make([]string, 0, len(order))
	for _, k := range order {
		lines = append(lines, CompactString(merged[k]))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// CompactString prints a rule the way upstream's error messages do:
// {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}, leaving
// out empty fields.
func CompactString(r *rbacv1.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("NonResourceURLs", r.NonResourceURLs)
	add("ResourceNames", r.ResourceNames)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
