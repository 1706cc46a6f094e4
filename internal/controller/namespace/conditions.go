package namespace

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// conditions turns a content report into the five deletion conditions, in
// a fixed order:
// True with a failure reason when something is wrong or left, False with
// an "all is well" reason otherwise. Transition times are left unset.
func (r contentReport) conditions() []corev1.NamespaceCondition {
	return []corev1.NamespaceCondition{
		condition(corev1.NamespaceDeletionDiscoveryFailure, r.discoveryErr != nil,
			"DiscoveryFailed", errMessage("Discovery failed for some groups", r.discoveryErr),
			"ResourcesDiscovered", "All resources successfully discovered"),
		condition(corev1.NamespaceDeletionGVParsingFailure, r.parseErr != nil,
			"GroupVersionParsingFailed", errMessage("Failed to parse group versions", r.parseErr),
			"ParsedGroupVersions", "All legacy kube types successfully parsed"),
		condition(corev1.NamespaceDeletionContentFailure, len(r.deleteErrs) > 0,
			"ContentDeletionFailed", fmt.Sprintf("Failed to delete all resource types, %d remaining: %v", len(r.deleteErrs), errors.Join(r.deleteErrs...)),
			"ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
		condition(corev1.NamespaceContentRemaining, len(r.remaining) > 0,
			"SomeResourcesRemain", "Some resources are remaining: "+countList(r.remaining, "has", "resource instances"),
			"ContentRemoved", "All content successfully removed"),
		condition(corev1.NamespaceFinalizersRemaining, len(r.finalizers) > 0,
			"SomeFinalizersRemain", "Some content in the namespace has finalizers remaining: "+countList(r.finalizers, "in", "resource instances"),
			"ContentHasNoFinalizers", "All content-preserving finalizers finished"),
	}
}

// condition is one condition, True with the bad reason when bad is set.
func condition(t corev1.NamespaceConditionType, bad bool, badReason, badMessage, okReason, okMessage string) corev1.NamespaceCondition {
	if bad {
		return corev1.NamespaceCondition{Type: t, Status: corev1.ConditionTrue, Reason: badReason, Message: badMessage}
	}
	return corev1.NamespaceCondition{Type: t, Status: corev1.ConditionFalse, Reason: okReason, Message: okMessage}
}

func errMessage(prefix string, err error) string {
	if err == nil {
		return ""
	}
	return prefix + ": " + err.Error()
}

// countList renders counts as "a has 2 resource instances, b has 1
// resource instances", sorted by name.
func countList(counts map[string]int, verb, unit string) string {
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %s %d %s", n, verb, counts[n], unit))
	}
	return strings.Join(parts, ", ")
}

// mergeConditions keeps the conditions other writers own, replaces the
// controller's with want, and keeps a condition's transition time while
// its status does not change.
func mergeConditions(old, want []corev1.NamespaceCondition, now metav1.Time) []corev1.NamespaceCondition {
	out := make([]corev1.NamespaceCondition, 0, len(old)+len(want))
	for _, c := range old {
		if !owned(c.Type) {
			out = append(out, c)
		}
	}
	for _, c := range want {
		c.LastTransitionTime = now
		i := slices.IndexFunc(old, func(o corev1.NamespaceCondition) bool { return o.Type == c.Type })
		if i >= 0 && old[i].Status == c.Status {
			c.LastTransitionTime = old[i].LastTransitionTime
		}
		out = append(out, c)
	}
	return out
}

// owned reports whether the controller maintains conditions of type t.
func owned(t corev1.NamespaceConditionType) bool {
	switch t {
	case corev1.NamespaceDeletionDiscoveryFailure, corev1.NamespaceDeletionGVParsingFailure,
		corev1.NamespaceDeletionContentFailure, corev1.NamespaceContentRemaining, corev1.NamespaceFinalizersRemaining:
		return true
	}
	return false
}

// conditionsEqual compares condition lists, times included.
func conditionsEqual(a, b []corev1.NamespaceCondition) bool {
	return equality.Semantic.DeepEqual(a, b)
}
