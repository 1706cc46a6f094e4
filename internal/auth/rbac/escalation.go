package rbac

import (
	"context"
	"errors"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/skiffkube/skiff/internal/auth"
)

// EscalationError says that a user tried to grant rules they do not hold.
// The API server turns it into 403 Forbidden.
type EscalationError struct {
	// User is the name of the user, Groups their groups.
	User   string
	Groups []string
	// Missing are the broken-down rules the user does not hold.
	Missing []rbacv1.PolicyRule
	// Resolution holds errors met resolving the user's own rules, which may
	// explain why some were missing.
	Resolution error
}

// Error implements error with upstream's wording.
func (e *EscalationError) Error() string {
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s",
		e.User, e.Groups, describeRules(e.Missing))
	if e.Resolution != nil {
		msg += fmt.Sprintf("; resolution errors: %v", e.Resolution)
	}
	return msg
}

// ConfirmNoEscalation returns nil when user already holds every one of rules
// in namespace ("" for cluster scope, as for a ClusterRole), and an
// *EscalationError otherwise. It does not consider the "escalate" verb or
// system:masters; RoleWriteAllowed and BindAllowed do.
func ConfirmNoEscalation(user *auth.User, namespace string, rules []rbacv1.PolicyRule, a *Authorizer) error {
	if user == nil {
		return errors.New("no user to check RBAC escalation for")
	}
	owned, errs := a.allRules(user, namespace)
	if ok, missing := Covers(owned, rules); !ok {
		return &EscalationError{User: user.Name, Groups: user.Groups, Missing: missing, Resolution: errors.Join(errs...)}
	}
	return nil
}

// RoleWriteAllowed decides whether user may create or update role, a
// *rbacv1.Role or *rbacv1.ClusterRole. As upstream: members of
// system:masters and users granted the "escalate" verb on the role (asked of
// z, the server's whole authorizer chain) may write any rules; others only
// rules they hold themselves (in the Role's namespace, or cluster-wide for a
// ClusterRole). Setting an aggregationRule needs full authority. old is the
// stored object on update (nil on create): an update that leaves the rules
// and aggregationRule as they were grants nothing new and is allowed.
func RoleWriteAllowed(ctx context.Context, z auth.Authorizer, a *Authorizer, user *auth.User, role, old any) error {
	if old != nil && sameGrants(role, old) {
		return nil
	}
	var (
		resource, namespace, name string
		rules                     []rbacv1.PolicyRule
		aggregated                bool
	)
	switch r := role.(type) {
	case *rbacv1.Role:
		resource, namespace, name, rules = "roles", r.Namespace, r.Name, r.Rules
	case *rbacv1.ClusterRole:
		resource, name, rules, aggregated = "clusterroles", r.Name, r.Rules, r.AggregationRule != nil
	default:
		return fmt.Errorf("RoleWriteAllowed: unsupported object %T", role)
	}
	if isMaster(user) || verbAllowed(ctx, z, user, "escalate", resource, namespace, name) {
		return nil
	}
	if err := ConfirmNoEscalation(user, namespace, rules, a); err != nil {
		return err
	}
	if aggregated {
		if err := ConfirmNoEscalation(user, "", FullAuthority(), a); err != nil {
			return fmt.Errorf("must have cluster-admin privileges to use the aggregationRule: %w", err)
		}
	}
	return nil
}

// BindAllowed decides whether user may create a binding in bindingNamespace
// ("" for a ClusterRoleBinding) that refers to ref. As upstream: members of
// system:masters may; so may users granted the "bind" verb on the referenced
// role (asked of z in the binding's namespace, so "bind" can be delegated
// per namespace); others only when they hold every rule of the role
// themselves in the binding's scope.
func BindAllowed(ctx context.Context, z auth.Authorizer, a *Authorizer, user *auth.User, bindingNamespace string, ref rbacv1.RoleRef) error {
	if isMaster(user) {
		return nil
	}
	var resource string
	switch ref.Kind {
	case "Role":
		resource = "roles"
	case "ClusterRole":
		resource = "clusterroles"
	default:
		return fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
	}
	if verbAllowed(ctx, z, user, "bind", resource, bindingNamespace, ref.Name) {
		return nil
	}
	rules, err := a.roleRefRules(ref, bindingNamespace)
	if err != nil {
		return fmt.Errorf("checking bind of %s %q: %w", ref.Kind, ref.Name, err)
	}
	return ConfirmNoEscalation(user, bindingNamespace, rules, a)
}

// BindingWriteAllowed is BindAllowed for binding, a *rbacv1.RoleBinding or
// *rbacv1.ClusterRoleBinding. old is the stored object on update (nil on
// create): an update that keeps the role reference and subjects grants
// nothing new and is allowed (for example the garbage collector editing
// owner references); one that adds subjects is checked like a create.
func BindingWriteAllowed(ctx context.Context, z auth.Authorizer, a *Authorizer, user *auth.User, binding, old any) error {
	if old != nil && sameGrants(binding, old) {
		return nil
	}
	switch b := binding.(type) {
	case *rbacv1.RoleBinding:
		return BindAllowed(ctx, z, a, user, b.Namespace, b.RoleRef)
	case *rbacv1.ClusterRoleBinding:
		return BindAllowed(ctx, z, a, user, "", b.RoleRef)
	default:
		return fmt.Errorf("BindingWriteAllowed: unsupported object %T", binding)
	}
}

// verbAllowed asks z whether user may perform verb on the named RBAC
// resource in namespace. A nil z or an error counts as no.
func verbAllowed(ctx context.Context, z auth.Authorizer, user *auth.User, verb, resource, namespace, name string) bool {
	if z == nil || user == nil {
		return false
	}
	d, _, err := z.Authorize(ctx, auth.Attributes{
		User: user, Verb: verb, Namespace: namespace, Name: name, ResourceRequest: true,
		APIGroup: rbacv1.GroupName, APIVersion: "*", Resource: resource,
	})
	return err == nil && d == auth.DecisionAllow
}

// sameGrants reports whether two versions of one RBAC object grant the
// same: equal rules and aggregationRule for roles, equal roleRef and
// subjects for bindings. Objects of different types never do.
func sameGrants(obj, old any) bool {
	eq := equality.Semantic.DeepEqual
	switch o := obj.(type) {
	case *rbacv1.Role:
		p, ok := old.(*rbacv1.Role)
		return ok && eq(o.Rules, p.Rules)
	case *rbacv1.ClusterRole:
		p, ok := old.(*rbacv1.ClusterRole)
		return ok && eq(o.Rules, p.Rules) && eq(o.AggregationRule, p.AggregationRule)
	case *rbacv1.RoleBinding:
		p, ok := old.(*rbacv1.RoleBinding)
		return ok && eq(o.RoleRef, p.RoleRef) && eq(o.Subjects, p.Subjects)
	case *rbacv1.ClusterRoleBinding:
		p, ok := old.(*rbacv1.ClusterRoleBinding)
		return ok && eq(o.RoleRef, p.RoleRef) && eq(o.Subjects, p.Subjects)
	default:
		return false
	}
}
