package registry

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// roleStrategy is the strategy of rbac.authorization.k8s.io/v1 Roles.
func roleStrategy() Strategy {
	validate := func(r *rbacv1.Role) field.ErrorList {
		return validatePolicyRules(r.Rules, true, field.NewPath("rules"))
	}
	return Typed[*rbacv1.Role]{
		ValidateFunc:       validate,
		ValidateUpdateFunc: func(r, _ *rbacv1.Role) field.ErrorList { return validate(r) },
	}
}

// clusterRoleStrategy is the strategy of ClusterRoles.
func clusterRoleStrategy() Strategy {
	return Typed[*rbacv1.ClusterRole]{
		ValidateFunc:       validateClusterRole,
		ValidateUpdateFunc: func(r, _ *rbacv1.ClusterRole) field.ErrorList { return validateClusterRole(r) },
	}
}

func validateClusterRole(r *rbacv1.ClusterRole) field.ErrorList {
	errs := validatePolicyRules(r.Rules, false, field.NewPath("rules"))
	if r.AggregationRule != nil {
		sp := field.NewPath("aggregationRule", "clusterRoleSelectors")
		if len(r.AggregationRule.ClusterRoleSelectors) == 0 {
			errs = append(errs, field.Required(sp, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
		}
		for i := range r.AggregationRule.ClusterRoleSelectors {
			errs = append(errs, metav1validation.ValidateLabelSelector(&r.AggregationRule.ClusterRoleSelectors[i], workloadSelectorOpts(), sp.Index(i))...)
		}
	}
	return errs
}

func validatePolicyRules(rules []rbacv1.PolicyRule, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range rules {
		errs = append(errs, validatePolicyRule(&rules[i], namespaced, p.Index(i))...)
	}
	return errs
}

// validatePolicyRule requires verbs, and either non-resource URLs (only in
// cluster roles, and alone) or API groups and resources.
func validatePolicyRule(r *rbacv1.PolicyRule, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(r.Verbs) == 0 {
		errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(r.NonResourceURLs) > 0 {
		up := p.Child("nonResourceURLs")
		if namespaced {
			errs = append(errs, field.Invalid(up, r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
			errs = append(errs, field.Invalid(up, r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		return errs
	}
	if len(r.APIGroups) == 0 {
		errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(r.Resources) == 0 {
		errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
	}
	return errs
}
