package rbac

import (
	"context"
	"errors"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// Test builders for RBAC objects.

func testRole(ns, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
}

func testClusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func testRB(ns, name, kind, role string, subjects ...rbacv1.Subject) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: role},
		Subjects:   subjects,
	}
}

func testCRB(name, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
		Subjects:   subjects,
	}
}

func sa(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}

func saUser(ns, name string) *auth.User {
	return &auth.User{
		Name:   ServiceAccountUsername(ns, name),
		Groups: append(ServiceAccountGroups(ns), auth.GroupAuthenticated),
	}
}

func plainUser(name string, groups ...string) *auth.User {
	return &auth.User{Name: name, Groups: append(groups, auth.GroupAuthenticated)}
}

// res describes a resource request.
func res(u *auth.User, verb, group, resource, sub, ns, name string) auth.Attributes {
	return auth.Attributes{User: u, Verb: verb, APIGroup: group, Resource: resource, Subresource: sub,
		Namespace: ns, Name: name, ResourceRequest: true}
}

// nonRes describes a non-resource request.
func nonRes(u *auth.User, verb, path string) auth.Attributes {
	return auth.Attributes{User: u, Verb: verb, Path: path}
}

// allowed reports whether z allows attrs, failing on errors.
func allowed(z auth.Authorizer, attrs auth.Attributes) (bool, string) {
	d, reason, err := z.Authorize(context.Background(), attrs)
	if err != nil {
		return false, "error: " + err.Error()
	}
	return d == auth.DecisionAllow, reason
}

// failingSource fails every list and get, to test error reporting.
type failingSource struct{}

var errBroken = errors.New("cache not synced")

func (failingSource) GetRole(string, string) (*rbacv1.Role, error)       { return nil, errBroken }
func (failingSource) GetClusterRole(string) (*rbacv1.ClusterRole, error) { return nil, errBroken }
func (failingSource) ListRoleBindings(string) ([]*rbacv1.RoleBinding, error) {
	return nil, errBroken
}
func (failingSource) ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error) {
	return nil, errBroken
}
