package rbac

import (
	"context"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// Masters allows every request of a member of the system:masters group and
// has no opinion on others. Upstream runs this check ahead of RBAC, so the
// superuser group cannot be locked out by deleting RBAC objects.
type Masters struct{}

var _ auth.Authorizer = Masters{}

// Authorize implements auth.Authorizer.
func (Masters) Authorize(_ context.Context, attrs auth.Attributes) (auth.Decision, string, error) {
	if isMaster(attrs.User) {
		return auth.DecisionAllow, "", nil
	}
	return auth.DecisionNoOpinion, "", nil
}

// RulesFor returns full authority for members of system:masters and nothing
// for others, for SelfSubjectRulesReview.
func (Masters) RulesFor(user *auth.User) (resource, nonResource []rbacv1.PolicyRule) {
	if !isMaster(user) {
		return nil, nil
	}
	full := FullAuthority()
	return full[:1], full[1:]
}

// isMaster reports whether user is in system:masters.
func isMaster(user *auth.User) bool {
	return user != nil && slices.Contains(user.Groups, auth.GroupMasters)
}

// FullAuthority returns the rules of cluster-admin: every verb on every
// resource of every group, and every verb on every non-resource URL.
func FullAuthority() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{Verbs: []string{rbacv1.VerbAll}, APIGroups: []string{rbacv1.APIGroupAll}, Resources: []string{rbacv1.ResourceAll}},
		{Verbs: []string{rbacv1.VerbAll}, NonResourceURLs: []string{rbacv1.NonResourceAll}},
	}
}
