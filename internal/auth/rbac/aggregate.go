package rbac

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// AggregatedRules computes the rules of target, a ClusterRole with an
// aggregationRule, from all the ClusterRoles: for each selector in order,
// the ClusterRoles whose labels match it, sorted by name, contribute their
// rules; a rule already present is not repeated and target never
// contributes to itself. target without an aggregationRule keeps its rules.
func AggregatedRules(target *rbacv1.ClusterRole, all []*rbacv1.ClusterRole) ([]rbacv1.PolicyRule, error) {
	if target.AggregationRule == nil {
		return target.Rules, nil
	}
	sorted := slices.Clone(all)
	slices.SortFunc(sorted, func(a, b *rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
	var rules []rbacv1.PolicyRule
	for i := range target.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&target.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			return nil, fmt.Errorf("ClusterRole %q: aggregation selector %d: %w", target.Name, i, err)
		}
		for _, cr := range sorted {
			if cr.Name == target.Name || !sel.Matches(labels.Set(cr.Labels)) {
				continue
			}
			for _, r := range cr.Rules {
				if !slices.ContainsFunc(rules, func(have rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(have, r) }) {
					rules = append(rules, *r.DeepCopy())
				}
			}
		}
	}
	return rules, nil
}

// Aggregate returns a copy of target with its aggregated rules, and whether
// they differ from the rules target has now (the controller writes the copy
// only then).
func Aggregate(target *rbacv1.ClusterRole, all []*rbacv1.ClusterRole) (*rbacv1.ClusterRole, bool, error) {
	rules, err := AggregatedRules(target, all)
	if err != nil {
		return nil, false, err
	}
	if equality.Semantic.DeepEqual(rules, target.Rules) {
		return target, false, nil
	}
	out := target.DeepCopy()
	out.Rules = rules
	return out, true, nil
}

// AggregateAll aggregates every ClusterRole of roles until nothing changes,
// so that chains (view into edit into admin) settle as the controller would
// settle them over several passes. It returns new copies; roles is not
// modified.
func AggregateAll(roles []*rbacv1.ClusterRole) ([]*rbacv1.ClusterRole, error) {
	cur := make([]*rbacv1.ClusterRole, len(roles))
	for i, r := range roles {
		cur[i] = r.DeepCopy()
	}
	// Each pass settles at least one more link of the longest chain.
	for pass := 0; pass <= len(cur); pass++ {
		changed := false
		for i, r := range cur {
			out, diff, err := Aggregate(r, cur)
			if err != nil {
				return nil, err
			}
			if diff {
				cur[i], changed = out, true
			}
		}
		if !changed {
			return cur, nil
		}
	}
	return nil, fmt.Errorf("ClusterRole aggregation did not settle after %d passes", len(cur)+1)
}
