package registry

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRoleRules(t *testing.T) {
	podsRule := rbacv1.PolicyRule{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}
	urlRule := rbacv1.PolicyRule{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}}
	cases := []struct {
		name      string
		rule      rbacv1.PolicyRule
		roleWant  []string
		croleWant []string
	}{
		{name: "resource rule", rule: podsRule},
		{name: "non-resource rule", rule: urlRule, roleWant: []string{"invalid:rules[0].nonResourceURLs"}},
		{name: "no verbs", rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}},
			roleWant: []string{"required:rules[0].verbs"}, croleWant: []string{"required:rules[0].verbs"}},
		{name: "no groups or resources", rule: rbacv1.PolicyRule{Verbs: []string{"*"}},
			roleWant:  []string{"required:rules[0].apiGroups", "required:rules[0].resources"},
			croleWant: []string{"required:rules[0].apiGroups", "required:rules[0].resources"}},
		{name: "mixed", rule: rbacv1.PolicyRule{Verbs: []string{"get"}, Resources: []string{"pods"}, NonResourceURLs: []string{"/metrics"}},
			roleWant:  []string{"invalid:rules[0].nonResourceURLs", "invalid:rules[0].nonResourceURLs"},
			croleWant: []string{"invalid:rules[0].nonResourceURLs"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			role := &rbacv1.Role{ObjectMeta: wlMeta("r"), Rules: []rbacv1.PolicyRule{tc.rule}}
			wlCheckErrs(t, roleStrategy().Validate(role), tc.roleWant...)
			crole := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "system:r"}, Rules: []rbacv1.PolicyRule{tc.rule}}
			wlCheckErrs(t, clusterRoleStrategy().Validate(crole), tc.croleWant...)
		})
	}
	agg := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "admin"}, AggregationRule: &rbacv1.AggregationRule{}}
	wlCheckErrs(t, clusterRoleStrategy().Validate(agg), "required:aggregationRule.clusterRoleSelectors")
}

func TestBindings(t *testing.T) {
	rb := &rbacv1.RoleBinding{
		ObjectMeta: wlMeta("read-pods"),
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{
			{Kind: rbacv1.UserKind, Name: "jane"},
			{Kind: rbacv1.GroupKind, Name: "system:authenticated"},
			{Kind: rbacv1.ServiceAccountKind, Name: "default"},
		},
	}
	s := roleBindingStrategy()
	s.Default(rb)
	if rb.RoleRef.APIGroup != rbacv1.GroupName || rb.Subjects[0].APIGroup != rbacv1.GroupName ||
		rb.Subjects[1].APIGroup != rbacv1.GroupName || rb.Subjects[2].APIGroup != "" {
		t.Fatalf("defaults: %+v %+v", rb.RoleRef, rb.Subjects)
	}
	cases := []struct {
		name   string
		mutate func(rb *rbacv1.RoleBinding)
		want   []string
	}{
		{name: "valid", mutate: func(*rbacv1.RoleBinding) {}},
		{name: "bad ref", mutate: func(rb *rbacv1.RoleBinding) {
			rb.RoleRef = rbacv1.RoleRef{APIGroup: "example.com", Kind: "Policy"}
		}, want: []string{"notsupported:roleRef.apiGroup", "notsupported:roleRef.kind", "required:roleRef.name"}},
		{name: "bad subjects", mutate: func(rb *rbacv1.RoleBinding) {
			rb.Subjects = []rbacv1.Subject{
				{Kind: "Robot", Name: "r2"},
				{Kind: rbacv1.ServiceAccountKind, Name: "Bad_Name", APIGroup: "rbac.authorization.k8s.io"},
				{Kind: rbacv1.UserKind, APIGroup: "example.com"},
			}
		}, want: []string{"notsupported:subjects[0].kind", "invalid:subjects[1].name", "notsupported:subjects[1].apiGroup",
			"required:subjects[2].name", "notsupported:subjects[2].apiGroup"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := rb.DeepCopy()
			tc.mutate(obj)
			wlCheckErrs(t, s.Validate(obj), tc.want...)
		})
	}
	upd := rb.DeepCopy()
	upd.Subjects = upd.Subjects[:1]
	wlCheckErrs(t, s.ValidateUpdate(upd, rb))
	upd.RoleRef.Name = "pod-writer"
	wlCheckErrs(t, s.ValidateUpdate(upd, rb), "invalid:roleRef")

	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "system:node"},
		RoleRef:    rbacv1.RoleRef{Kind: "Role", Name: "x"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "default"}},
	}
	cs := clusterRoleBindingStrategy()
	cs.Default(crb)
	wlCheckErrs(t, cs.Validate(crb), "notsupported:roleRef.kind", "required:subjects[0].namespace")
}
