package rbac

import (
	"context"
	"errors"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// RuleSource gives the evaluator the RBAC objects. The API server backs it
// with informer caches; implementations must not be slow (they are called on
// every request) and the returned objects are never modified.
type RuleSource interface {
	GetRole(namespace, name string) (*rbacv1.Role, error)
	GetClusterRole(name string) (*rbacv1.ClusterRole, error)
	ListRoleBindings(namespace string) ([]*rbacv1.RoleBinding, error)
	ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error)
}

// Authorizer is the RBAC authorizer. It allows a request when some rule
// granted to the user matches it, and otherwise has no opinion (so that
// another authorizer in a union may still allow it; the union denies in the
// end).
type Authorizer struct {
	// src supplies roles and bindings.
	src RuleSource
}

var _ auth.Authorizer = (*Authorizer)(nil)

// New returns an RBAC authorizer reading from src.
func New(src RuleSource) *Authorizer {
	return &Authorizer{src: src}
}

// Authorize implements auth.Authorizer. On allow the reason names the
// binding, role and subject that granted the request, as upstream does:
//
//	RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to User "z"
//
// When nothing matches, the decision is NoOpinion and the reason lists the
// errors met while resolving the user's rules, if any.
func (a *Authorizer) Authorize(_ context.Context, attrs auth.Attributes) (auth.Decision, string, error) {
	if attrs.User == nil {
		return auth.DecisionNoOpinion, "RBAC: no user", nil
	}
	var grant grantSource
	found := false
	errs := a.visitRules(attrs.User, attrs.Namespace, func(src grantSource, rule *rbacv1.PolicyRule) bool {
		if RuleAllows(&attrs, rule) {
			grant, found = src, true
			return false
		}
		return true
	})
	if found {
		return auth.DecisionAllow, "RBAC: allowed by " + grant.String(), nil
	}
	if len(errs) > 0 {
		return auth.DecisionNoOpinion, "RBAC: " + errors.Join(errs...).Error(), nil
	}
	return auth.DecisionNoOpinion, "", nil
}

// grantSource says where a rule came from: one binding and the subject of
// it that matched the user. It is turned into text only when needed.
type grantSource struct {
	crb     *rbacv1.ClusterRoleBinding
	rb      *rbacv1.RoleBinding
	subject *rbacv1.Subject
}

// String describes the grant in upstream's words.
func (g grantSource) String() string {
	if g.crb != nil {
		return fmt.Sprintf("ClusterRoleBinding %q of %s %q to %s",
			g.crb.Name, g.crb.RoleRef.Kind, g.crb.RoleRef.Name, describeSubject(g.subject, ""))
	}
	// Upstream prints "name/namespace" for RoleBindings; keep its wording.
	return fmt.Sprintf("RoleBinding %q of %s %q to %s",
		g.rb.Name+"/"+g.rb.Namespace, g.rb.RoleRef.Kind, g.rb.RoleRef.Name, describeSubject(g.subject, g.rb.Namespace))
}

// describeSubject prints a subject as `Kind "name"`; service accounts are
// printed as "name/namespace".
func describeSubject(s *rbacv1.Subject, bindingNamespace string) string {
	if s.Kind != rbacv1.ServiceAccountKind {
		return fmt.Sprintf("%s %q", s.Kind, s.Name)
	}
	ns := s.Namespace
	if ns == "" {
		ns = bindingNamespace
	}
	return fmt.Sprintf("%s %q", s.Kind, s.Name+"/"+ns)
}

// visitRules calls visit for every rule granted to user in namespace (""
// means cluster scope: ClusterRoleBindings only), until visit returns false.
// Errors resolving bindings or roles do not stop the walk; they are
// returned.
func (a *Authorizer) visitRules(user *auth.User, namespace string, visit func(grantSource, *rbacv1.PolicyRule) bool) []error {
	var errs []error
	crbs, err := a.src.ListClusterRoleBindings()
	if err != nil {
		errs = append(errs, fmt.Errorf("listing ClusterRoleBindings: %w", err))
	}
	for _, crb := range crbs {
		subject := matchingSubject(user, crb.Subjects, "")
		if subject == nil {
			continue
		}
		rules, err := a.roleRefRules(crb.RoleRef, "")
		if err != nil {
			errs = append(errs, fmt.Errorf("ClusterRoleBinding %q: %w", crb.Name, err))
			continue
		}
		src := grantSource{crb: crb, subject: subject}
		for i := range rules {
			if !visit(src, &rules[i]) {
				return errs
			}
		}
	}
	if namespace == "" {
		return errs
	}
	rbs, err := a.src.ListRoleBindings(namespace)
	if err != nil {
		errs = append(errs, fmt.Errorf("listing RoleBindings in %q: %w", namespace, err))
	}
	for _, rb := range rbs {
		subject := matchingSubject(user, rb.Subjects, namespace)
		if subject == nil {
			continue
		}
		rules, err := a.roleRefRules(rb.RoleRef, namespace)
		if err != nil {
			errs = append(errs, fmt.Errorf("RoleBinding %q: %w", rb.Namespace+"/"+rb.Name, err))
			continue
		}
		src := grantSource{rb: rb, subject: subject}
		for i := range rules {
			if !visit(src, &rules[i]) {
				return errs
			}
		}
	}
	return errs
}

// roleRefRules returns the rules of the role a binding refers to. A Role is
// looked up in the binding's namespace; a ClusterRole referenced from a
// RoleBinding grants its rules in that namespace only, which follows from
// the caller asking for that namespace's bindings.
func (a *Authorizer) roleRefRules(ref rbacv1.RoleRef, bindingNamespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		if bindingNamespace == "" {
			return nil, fmt.Errorf("role reference %q: a Role can only be referenced from a RoleBinding", ref.Name)
		}
		r, err := a.src.GetRole(bindingNamespace, ref.Name)
		if err != nil {
			return nil, fmt.Errorf("getting Role %q: %w", bindingNamespace+"/"+ref.Name, err)
		}
		return r.Rules, nil
	case "ClusterRole":
		r, err := a.src.GetClusterRole(ref.Name)
		if err != nil {
			return nil, fmt.Errorf("getting ClusterRole %q: %w", ref.Name, err)
		}
		return r.Rules, nil
	default:
		return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
	}
}

// RulesFor returns the rules granted to user in namespace ("" for the
// cluster scope), split as SelfSubjectRulesReview reports them: rules with
// resources, and rules with non-resource URLs (a rule with both appears in
// both lists). When some binding or role could not be resolved the rules
// are still returned, incomplete is true and err says what failed.
func (a *Authorizer) RulesFor(user *auth.User, namespace string) (resource, nonResource []rbacv1.PolicyRule, incomplete bool, err error) {
	all, errs := a.allRules(user, namespace)
	for _, r := range all {
		if len(r.Resources) > 0 {
			resource = append(resource, rbacv1.PolicyRule{
				Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames,
			})
		}
		if len(r.NonResourceURLs) > 0 {
			nonResource = append(nonResource, rbacv1.PolicyRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		}
	}
	if len(errs) > 0 {
		return resource, nonResource, true, fmt.Errorf("resolving RBAC rules: %w", errors.Join(errs...))
	}
	return resource, nonResource, false, nil
}

// allRules returns every rule granted to user in namespace, deep-copied, and
// the resolution errors met.
func (a *Authorizer) allRules(user *auth.User, namespace string) ([]rbacv1.PolicyRule, []error) {
	var rules []rbacv1.PolicyRule
	if user == nil {
		return nil, nil
	}
	errs := a.visitRules(user, namespace, func(_ grantSource, r *rbacv1.PolicyRule) bool {
		rules = append(rules, *r.DeepCopy())
		return true
	})
	return rules, errs
}
