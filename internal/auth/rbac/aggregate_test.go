package rbac

import (
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func labelled(name string, labels map[string]string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	cr := testClusterRole(name, rules...)
	cr.Labels = labels
	return cr
}

func aggregating(name string, sels ...metav1.LabelSelector) *rbacv1.ClusterRole {
	cr := testClusterRole(name)
	cr.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: sels}
	return cr
}

func TestAggregatedRules(t *testing.T) {
	pods := grant(verbs("get"), "", "pods")
	secrets := grant(verbs("get"), "", "secrets")
	nodes := grant(verbs("list"), "", "nodes")
	all := []*rbacv1.ClusterRole{
		labelled("z-secrets", map[string]string{"agg": "true"}, secrets),
		labelled("a-pods", map[string]string{"agg": "true"}, pods),
		labelled("b-pods-again", map[string]string{"agg": "true", "tier": "x"}, pods, nodes),
		labelled("unlabelled", nil, grant(verbs("*"), "*", "*")),
	}
	tests := []struct {
		name    string
		target  *rbacv1.ClusterRole
		want    []rbacv1.PolicyRule
		wantErr string
	}{
		{"match labels, sorted by name, deduplicated",
			aggregating("t", metav1.LabelSelector{MatchLabels: map[string]string{"agg": "true"}}),
			[]rbacv1.PolicyRule{pods, nodes, secrets}, ""},
		{"selectors in order",
			aggregating("t",
				metav1.LabelSelector{MatchLabels: map[string]string{"tier": "x"}},
				metav1.LabelSelector{MatchLabels: map[string]string{"agg": "true"}}),
			[]rbacv1.PolicyRule{pods, nodes, secrets}, ""},
		{"match expressions",
			aggregating("t", metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
				{Key: "tier", Operator: metav1.LabelSelectorOpDoesNotExist},
				{Key: "agg", Operator: metav1.LabelSelectorOpIn, Values: []string{"true"}},
			}}),
			[]rbacv1.PolicyRule{pods, secrets}, ""},
		{"no selectors, no rules", aggregating("t"), nil, ""},
		{"does not aggregate itself",
			aggregating("a-pods", metav1.LabelSelector{MatchLabels: map[string]string{"agg": "true"}}),
			[]rbacv1.PolicyRule{pods, nodes, secrets}, ""},
		{"not aggregated keeps its rules", testClusterRole("t", nodes), []rbacv1.PolicyRule{nodes}, ""},
		{"bad selector",
			aggregating("t", metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Like"}}}),
			nil, `ClusterRole "t": aggregation selector 0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AggregatedRules(tt.target, all)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if describe(got) != describe(tt.want) {
				t.Errorf("rules =\n%s\nwant\n%s", describe(got), describe(tt.want))
			}
		})
	}
}

// describe prints rules in order, one a line.
func describe(rules []rbacv1.PolicyRule) string {
	var lines []string
	for i := range rules {
		lines = append(lines, CompactString(&rules[i]))
	}
	return strings.Join(lines, "\n")
}

func TestAggregate(t *testing.T) {
	src := labelled("src", map[string]string{"agg": "true"}, grant(verbs("get"), "", "pods"))
	target := aggregating("t", metav1.LabelSelector{MatchLabels: map[string]string{"agg": "true"}})
	out, changed, err := Aggregate(target, []*rbacv1.ClusterRole{src, target})
	if err != nil || !changed || len(out.Rules) != 1 || len(target.Rules) != 0 {
		t.Fatalf("first: changed=%v err=%v rules=%v (target %v)", changed, err, out.Rules, target.Rules)
	}
	again, changed, err := Aggregate(out, []*rbacv1.ClusterRole{src, out})
	if err != nil || changed || again != out {
		t.Errorf("second: changed=%v err=%v, want unchanged", changed, err)
	}
}

func TestAggregateAllDefaults(t *testing.T) {
	roles, err := AggregateAll(DefaultClusterRoles())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*rbacv1.ClusterRole{}
	for _, cr := range roles {
		byName[cr.Name] = cr
	}
	view, edit, admin := byName["view"].Rules, byName["edit"].Rules, byName["admin"].Rules
	if len(view) != len(aggregateToViewRules()) {
		t.Errorf("view has %d rules, want %d", len(view), len(aggregateToViewRules()))
	}
	if ok, missing := Covers(edit, view); !ok {
		t.Errorf("edit lacks view's %s", describe(missing))
	}
	if ok, missing := Covers(admin, edit); !ok {
		t.Errorf("admin lacks edit's %s", describe(missing))
	}
	if ok, _ := Covers(view, edit); ok {
		t.Error("view covers edit")
	}
	if ok, _ := Covers(edit, admin); ok {
		t.Error("edit covers admin")
	}
	if len(DefaultClusterRoles()[1].Rules) != 0 {
		t.Error("AggregateAll changed its input")
	}
}
