package rbac

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	rbacv1 "k8s.io/api/rbac/v1"
)

// StaticSource is a RuleSource over fixed objects, for tests and for
// evaluating the defaults before informers run. Build it with
// NewStaticSource; it is not safe to change after use.
type StaticSource struct {
	// roles by namespace then name; clusterRoles by name.
	roles        map[string]map[string]*rbacv1.Role
	clusterRoles map[string]*rbacv1.ClusterRole
	// roleBindings by namespace.
	roleBindings        map[string][]*rbacv1.RoleBinding
	clusterRoleBindings []*rbacv1.ClusterRoleBinding
}

var _ RuleSource = (*StaticSource)(nil)

// NewStaticSource returns a RuleSource holding the given objects.
func NewStaticSource(roles []*rbacv1.Role, clusterRoles []*rbacv1.ClusterRole,
	roleBindings []*rbacv1.RoleBinding, clusterRoleBindings []*rbacv1.ClusterRoleBinding,
) *StaticSource {
	s := &StaticSource{
		roles:               map[string]map[string]*rbacv1.Role{},
		clusterRoles:        map[string]*rbacv1.ClusterRole{},
		roleBindings:        map[string][]*rbacv1.RoleBinding{},
		clusterRoleBindings: clusterRoleBindings,
	}
	for _, r := range roles {
		if s.roles[r.Namespace] == nil {
			s.roles[r.Namespace] = map[string]*rbacv1.Role{}
		}
		s.roles[r.Namespace][r.Name] = r
	}
	for _, r := range clusterRoles {
		s.clusterRoles[r.Name] = r
	}
	for _, b := range roleBindings {
		s.roleBindings[b.Namespace] = append(s.roleBindings[b.Namespace], b)
	}
	return s
}

// GetRole implements RuleSource; a missing role is a NotFound API error.
func (s *StaticSource) GetRole(namespace, name string) (*rbacv1.Role, error) {
	if r, ok := s.roles[namespace][name]; ok {
		return r, nil
	}
	return nil, apierrors.NewNotFound(rbacv1.Resource("roles"), name)
}

// GetClusterRole implements RuleSource.
func (s *StaticSource) GetClusterRole(name string) (*rbacv1.ClusterRole, error) {
	if r, ok := s.clusterRoles[name]; ok {
		return r, nil
	}
	return nil, apierrors.NewNotFound(rbacv1.Resource("clusterroles"), name)
}

// ListRoleBindings implements RuleSource.
func (s *StaticSource) ListRoleBindings(namespace string) ([]*rbacv1.RoleBinding, error) {
	return s.roleBindings[namespace], nil
}

// ListClusterRoleBindings implements RuleSource.
func (s *StaticSource) ListClusterRoleBindings() ([]*rbacv1.ClusterRoleBinding, error) {
	return s.clusterRoleBindings, nil
}
