package rbac

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ReconcileClusterRole merges a default ClusterRole (want) into the stored
// one (existing, nil when absent) the way the server does at start: a
// missing role is created; a role annotated autoupdate "false" is left
// alone; otherwise missing labels, annotations, rules (those existing does
// not cover) and aggregation selectors are added, and nothing is removed.
// It returns the object to write and whether a write is needed.
func ReconcileClusterRole(existing, want *rbacv1.ClusterRole) (*rbacv1.ClusterRole, bool) {
	if existing == nil {
		return want.DeepCopy(), true
	}
	if existing.Annotations[rbacv1.AutoUpdateAnnotationKey] == "false" {
		return existing, false
	}
	out := existing.DeepCopy()
	out.Labels = mergeMissing(out.Labels, want.Labels)
	out.Annotations = mergeMissing(out.Annotations, want.Annotations)
	if _, missing := Covers(out.Rules, want.Rules); len(missing) > 0 {
		for _, r := range want.Rules {
			if ok, _ := Covers(out.Rules, []rbacv1.PolicyRule{r}); !ok {
				out.Rules = append(out.Rules, *r.DeepCopy())
			}
		}
	}
	if want.AggregationRule != nil {
		if out.AggregationRule == nil {
			out.AggregationRule = &rbacv1.AggregationRule{}
		}
		for _, sel := range want.AggregationRule.ClusterRoleSelectors {
			have := out.AggregationRule.ClusterRoleSelectors
			if !slices.ContainsFunc(have, func(h metav1.LabelSelector) bool { return equality.Semantic.DeepEqual(h, sel) }) {
				out.AggregationRule.ClusterRoleSelectors = append(have, *sel.DeepCopy())
			}
		}
	}
	return out, !equality.Semantic.DeepEqual(out, existing)
}

// ReconcileClusterRoleBinding merges a default binding (want) into the
// stored one (existing, nil when absent): a missing binding is created; one
// annotated autoupdate "false" is left alone; otherwise missing labels,
// annotations and subjects are added. A roleRef cannot be updated in place:
// when it differs, recreate is true and the caller deletes and creates the
// returned object (which keeps the existing subjects too).
func ReconcileClusterRoleBinding(existing, want *rbacv1.ClusterRoleBinding) (out *rbacv1.ClusterRoleBinding, changed, recreate bool) {
	if existing == nil {
		return want.DeepCopy(), true, false
	}
	if existing.Annotations[rbacv1.AutoUpdateAnnotationKey] == "false" {
		return existing, false, false
	}
	out = existing.DeepCopy()
	out.Labels = mergeMissing(out.Labels, want.Labels)
	out.Annotations = mergeMissing(out.Annotations, want.Annotations)
	for _, s := range want.Subjects {
		if !slices.Contains(out.Subjects, s) {
			out.Subjects = append(out.Subjects, s)
		}
	}
	if out.RoleRef != want.RoleRef {
		out.RoleRef = want.RoleRef
		out.ResourceVersion = ""
		return out, true, true
	}
	return out, !equality.Semantic.DeepEqual(out, existing), false
}

// mergeMissing adds the keys of want that have is missing.
func mergeMissing(have, want map[string]string) map[string]string {
	for k, val := range want {
		if _, ok := have[k]; ok {
			continue
		}
		if have == nil {
			have = map[string]string{}
		}
		have[k] = val
	}
	return have
}
