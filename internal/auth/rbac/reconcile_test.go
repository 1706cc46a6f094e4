package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReconcileClusterRole(t *testing.T) {
	want := clusterRole("r", nil, grant(verbs("get"), "", "pods"), grant(verbs("list"), "", "nodes"))
	tests := []struct {
		name        string
		existing    *rbacv1.ClusterRole
		wantChanged bool
		wantRules   string
	}{
		{"absent", nil, true, describe(want.Rules)},
		{"same", want.DeepCopy(), false, describe(want.Rules)},
		{"missing rule added, extra kept", func() *rbacv1.ClusterRole {
			c := want.DeepCopy()
			c.Rules = []rbacv1.PolicyRule{grant(verbs("get", "list"), "", "pods"), grant(verbs("get"), "", "secrets")}
			return c
		}(), true, `{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}
{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}
{APIGroups:[""], Resources:["nodes"], Verbs:["list"]}`},
		{"autoupdate false left alone", func() *rbacv1.ClusterRole {
			c := testClusterRole("r")
			c.Annotations = map[string]string{rbacv1.AutoUpdateAnnotationKey: "false"}
			return c
		}(), false, ""},
		{"label added", func() *rbacv1.ClusterRole {
			c := want.DeepCopy()
			c.Labels = map[string]string{"mine": "x"}
			return c
		}(), true, describe(want.Rules)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed := ReconcileClusterRole(tt.existing, want)
			if changed != tt.wantChanged || describe(out.Rules) != tt.wantRules {
				t.Errorf("changed=%v rules=\n%s\nwant changed=%v rules=\n%s", changed, describe(out.Rules), tt.wantChanged, tt.wantRules)
			}
			if changed && out.Labels[BootstrapLabel] != BootstrapLabelValue {
				t.Errorf("labels = %v", out.Labels)
			}
		})
	}
}

func TestReconcileAggregatedClusterRole(t *testing.T) {
	want := aggregatedRole("admin", AggregateToAdmin)
	existing := want.DeepCopy()
	existing.Rules = []rbacv1.PolicyRule{grant(verbs("get"), "", "pods")} // filled by the controller
	extra := metav1.LabelSelector{MatchLabels: map[string]string{"custom": "true"}}
	existing.AggregationRule.ClusterRoleSelectors = []metav1.LabelSelector{extra}
	out, changed := ReconcileClusterRole(existing, want)
	if !changed || len(out.AggregationRule.ClusterRoleSelectors) != 2 || len(out.Rules) != 1 {
		t.Errorf("changed=%v selectors=%v rules=%v", changed, out.AggregationRule.ClusterRoleSelectors, out.Rules)
	}
	if _, changed := ReconcileClusterRole(out, want); changed {
		t.Error("second reconcile changed again")
	}
}

func TestReconcileClusterRoleBinding(t *testing.T) {
	want := clusterBinding("b", group("g1"))
	out, changed, recreate := ReconcileClusterRoleBinding(nil, want)
	if !changed || recreate || out == want {
		t.Errorf("absent: changed=%v recreate=%v", changed, recreate)
	}
	if _, changed, _ := ReconcileClusterRoleBinding(want.DeepCopy(), want); changed {
		t.Error("same: changed")
	}
	existing := want.DeepCopy()
	existing.Subjects = []rbacv1.Subject{user("u")}
	out, changed, recreate = ReconcileClusterRoleBinding(existing, want)
	if !changed || recreate || len(out.Subjects) != 2 || out.Subjects[0] != user("u") || out.Subjects[1] != group("g1") {
		t.Errorf("subjects: changed=%v recreate=%v subjects=%v", changed, recreate, out.Subjects)
	}
	existing = want.DeepCopy()
	existing.RoleRef.Name = "other"
	existing.ResourceVersion = "7"
	out, changed, recreate = ReconcileClusterRoleBinding(existing, want)
	if !changed || !recreate || out.RoleRef.Name != "b" || out.ResourceVersion != "" {
		t.Errorf("roleRef: changed=%v recreate=%v ref=%v rv=%q", changed, recreate, out.RoleRef, out.ResourceVersion)
	}
	existing.Annotations[rbacv1.AutoUpdateAnnotationKey] = "false"
	if _, changed, recreate := ReconcileClusterRoleBinding(existing, want); changed || recreate {
		t.Error("autoupdate=false: changed")
	}
}
