package rbac

import (
	"context"
	"errors"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

func TestCovers(t *testing.T) {
	tests := []struct {
		name    string
		owner   []rbacv1.PolicyRule
		servant []rbacv1.PolicyRule
		missing []string // CompactString of each missing rule
	}{
		{"same", []rbacv1.PolicyRule{grant(verbs("get", "list"), "", "pods")}, []rbacv1.PolicyRule{grant(verbs("list", "get"), "", "pods")}, nil},
		{"split over owner rules",
			[]rbacv1.PolicyRule{grant(verbs("get"), "", "pods"), grant(verbs("list"), "", "pods")},
			[]rbacv1.PolicyRule{grant(verbs("get", "list"), "", "pods")}, nil},
		{"verb missing", []rbacv1.PolicyRule{grant(verbs("get"), "", "pods")}, []rbacv1.PolicyRule{grant(verbs("get", "delete"), "", "pods")},
			[]string{`{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}`}},
		{"star verb covers", []rbacv1.PolicyRule{grant(verbs("*"), "", "pods")}, []rbacv1.PolicyRule{grant(verbs("escalate"), "", "pods")}, nil},
		{"star verb not covered by verbs", []rbacv1.PolicyRule{grant(verbs("get", "list"), "", "pods")}, []rbacv1.PolicyRule{grant(verbs("*"), "", "pods")},
			[]string{`{APIGroups:[""], Resources:["pods"], Verbs:["*"]}`}},
		{"star group covers", []rbacv1.PolicyRule{grantGroups(verbs("get"), []string{"*"}, "x")}, []rbacv1.PolicyRule{grant(verbs("get"), "apps", "x")}, nil},
		{"star resource covers subresource", []rbacv1.PolicyRule{grant(verbs("get"), "", "*")}, []rbacv1.PolicyRule{grant(verbs("get"), "", "pods/log")}, nil},
		{"resource does not cover subresource", []rbacv1.PolicyRule{grant(verbs("get"), "", "pods")}, []rbacv1.PolicyRule{grant(verbs("get"), "", "pods/log")},
			[]string{`{APIGroups:[""], Resources:["pods/log"], Verbs:["get"]}`}},
		{"star slash sub covers", []rbacv1.PolicyRule{grant(verbs("get"), "", "*/status")}, []rbacv1.PolicyRule{grant(verbs("get"), "", "pods/status")}, nil},
		{"owner names cover fewer names",
			[]rbacv1.PolicyRule{named(grant(verbs("get"), "", "cm"), "a", "b")},
			[]rbacv1.PolicyRule{named(grant(verbs("get"), "", "cm"), "b")}, nil},
		{"owner names do not cover all names",
			[]rbacv1.PolicyRule{named(grant(verbs("get"), "", "cm"), "a")},
			[]rbacv1.PolicyRule{grant(verbs("get"), "", "cm")},
			[]string{`{APIGroups:[""], Resources:["cm"], Verbs:["get"]}`}},
		{"owner names do not cover other names",
			[]rbacv1.PolicyRule{named(grant(verbs("get"), "", "cm"), "a")},
			[]rbacv1.PolicyRule{named(grant(verbs("get"), "", "cm"), "a", "c")},
			[]string{`{APIGroups:[""], Resources:["cm"], ResourceNames:["c"], Verbs:["get"]}`}},
		{"url prefix covers", []rbacv1.PolicyRule{urls(verbs("get"), "/logs/*")}, []rbacv1.PolicyRule{urls(verbs("get"), "/logs/a", "/logs/*")}, nil},
		{"url not covered", []rbacv1.PolicyRule{urls(verbs("get"), "/logs/*")}, []rbacv1.PolicyRule{urls(verbs("get"), "/metrics")},
			[]string{`{NonResourceURLs:["/metrics"], Verbs:["get"]}`}},
		{"resource rule does not cover url", FullAuthority()[:1], []rbacv1.PolicyRule{urls(verbs("get"), "/metrics")},
			[]string{`{NonResourceURLs:["/metrics"], Verbs:["get"]}`}},
		{"url rule does not cover resource", FullAuthority()[1:], []rbacv1.PolicyRule{grant(verbs("get"), "", "pods")},
			[]string{`{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`}},
		{"full authority covers all", FullAuthority(), aggregateToEditRules(), nil},
		{"nothing covers something", nil, []rbacv1.PolicyRule{grant(verbs("get"), "", "pods")},
			[]string{`{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, missing := Covers(tt.owner, tt.servant)
			var got []string
			for i := range missing {
				got = append(got, CompactString(&missing[i]))
			}
			if ok != (len(tt.missing) == 0) || strings.Join(got, "\n") != strings.Join(tt.missing, "\n") {
				t.Errorf("Covers = %v, missing\n%s\nwant\n%s", ok, strings.Join(got, "\n"), strings.Join(tt.missing, "\n"))
			}
		})
	}
}

// escalationFixture: lead holds pod get/list/create/delete and "bind" on the
// ClusterRole secret-reader in ns a; root may "escalate" roles in ns a;
// nobody holds nothing.
func escalationFixture() (auth.Authorizer, *Authorizer) {
	src := NewStaticSource(
		[]*rbacv1.Role{testRole("a", "pod-admin", grant(verbs("get", "list", "create", "delete"), "", "pods"))},
		[]*rbacv1.ClusterRole{
			testClusterRole("pod-reader", grant(verbs("get", "list"), "", "pods")),
			testClusterRole("secret-reader", grant(verbs("get"), "", "secrets")),
			testClusterRole("binder", named(grant(verbs("bind"), rbacv1.GroupName, "clusterroles"), "secret-reader")),
			testClusterRole("escalator", grant(verbs("escalate"), rbacv1.GroupName, "roles")),
			testClusterRole("aggregated", grant(verbs("get"), "", "pods")),
		},
		[]*rbacv1.RoleBinding{
			testRB("a", "lead-pods", "Role", "pod-admin", user("lead")),
			testRB("a", "lead-bind", "ClusterRole", "binder", user("lead")),
			testRB("a", "root-escalate", "ClusterRole", "escalator", user("root")),
		},
		nil,
	)
	a := New(src)
	return auth.AuthorizerUnion{Masters{}, a}, a
}

func TestConfirmNoEscalation(t *testing.T) {
	_, a := escalationFixture()
	lead := plainUser("lead")
	if err := ConfirmNoEscalation(lead, "a", []rbacv1.PolicyRule{grant(verbs("get", "create"), "", "pods")}, a); err != nil {
		t.Errorf("subset of held rules: %v", err)
	}
	err := ConfirmNoEscalation(lead, "b", []rbacv1.PolicyRule{grant(verbs("get"), "", "pods")}, a)
	var esc *EscalationError
	if !errors.As(err, &esc) {
		t.Fatalf("rules held in another namespace: err = %v, want *EscalationError", err)
	}
	err = ConfirmNoEscalation(lead, "a", []rbacv1.PolicyRule{grant(verbs("get", "update", "patch"), "", "pods", "secrets")}, a)
	want := `user "lead" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["pods"], Verbs:["update" "patch"]}
{APIGroups:[""], Resources:["secrets"], Verbs:["get" "update" "patch"]}`
	if err == nil || err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
}

func TestRoleWriteAllowed(t *testing.T) {
	z, a := escalationFixture()
	ctx := context.Background()
	podRole := testRole("a", "r", grant(verbs("get"), "", "pods"))
	secretRole := testRole("a", "r", grant(verbs("get"), "", "secrets"))
	aggregated := testClusterRole("agg")
	aggregated.AggregationRule = &rbacv1.AggregationRule{}
	tests := []struct {
		name    string
		user    *auth.User
		role    any
		old     any
		wantErr string // substring; "" means allowed
	}{
		{"held rules", plainUser("lead"), podRole, nil, ""},
		{"not held", plainUser("lead"), secretRole, nil, "not currently held"},
		{"escalate verb in the namespace", plainUser("root"), secretRole, nil, ""},
		{"escalate verb not for another namespace", plainUser("root"), testRole("b", "r", grant(verbs("get"), "", "secrets")), nil, "not currently held"},
		{"escalate on roles is not on clusterroles", plainUser("root"), testClusterRole("r", grant(verbs("get"), "", "secrets")), nil, "not currently held"},
		{"masters", plainUser("x", auth.GroupMasters), testClusterRole("r", grant(verbs("*"), "*", "*")), nil, ""},
		{"cluster role needs cluster-scope rules", plainUser("lead"), testClusterRole("r", grant(verbs("get"), "", "pods")), nil, "not currently held"},
		{"update keeping rules", plainUser("nobody"), secretRole, testRole("a", "r", grant(verbs("get"), "", "secrets")), ""},
		{"update changing rules", plainUser("nobody"), secretRole, podRole, "not currently held"},
		{"aggregation rule needs full authority", plainUser("lead"), aggregated, nil, "must have cluster-admin privileges to use the aggregationRule"},
		{"aggregation rule for masters", plainUser("x", auth.GroupMasters), aggregated, nil, ""},
		{"wrong type", plainUser("lead"), podRole.Rules, nil, "unsupported object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, RoleWriteAllowed(ctx, z, a, tt.user, tt.role, tt.old), tt.wantErr)
		})
	}
}

func TestBindAllowed(t *testing.T) {
	z, a := escalationFixture()
	ctx := context.Background()
	ref := func(kind, name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: name}
	}
	tests := []struct {
		name    string
		user    *auth.User
		ns      string
		ref     rbacv1.RoleRef
		wantErr string
	}{
		{"holds the role's rules", plainUser("lead"), "a", ref("ClusterRole", "pod-reader"), ""},
		{"holds the role itself", plainUser("lead"), "a", ref("Role", "pod-admin"), ""},
		{"does not hold the rules", plainUser("nobody"), "a", ref("ClusterRole", "pod-reader"), "not currently held"},
		{"rules held elsewhere only", plainUser("lead"), "b", ref("ClusterRole", "pod-reader"), "not currently held"},
		{"cluster binding needs cluster rules", plainUser("lead"), "", ref("ClusterRole", "pod-reader"), "not currently held"},
		{"bind verb on that role", plainUser("lead"), "a", ref("ClusterRole", "secret-reader"), ""},
		{"bind verb only in its namespace", plainUser("lead"), "b", ref("ClusterRole", "secret-reader"), "not currently held"},
		{"masters", plainUser("x", auth.GroupMasters), "", ref("ClusterRole", "secret-reader"), ""},
		{"missing role", plainUser("lead"), "a", ref("ClusterRole", "nope"), `"nope" not found`},
		{"bad kind", plainUser("lead"), "a", ref("Group", "x"), "unsupported role reference kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, BindAllowed(ctx, z, a, tt.user, tt.ns, tt.ref), tt.wantErr)
		})
	}
}

func TestBindingWriteAllowed(t *testing.T) {
	z, a := escalationFixture()
	ctx := context.Background()
	nobody := plainUser("nobody")
	b := testRB("a", "x", "ClusterRole", "pod-reader", user("u1"))
	more := testRB("a", "x", "ClusterRole", "pod-reader", user("u1"), user("u2"))
	checkErr(t, BindingWriteAllowed(ctx, z, a, nobody, b, nil), "not currently held")
	checkErr(t, BindingWriteAllowed(ctx, z, a, nobody, b, b.DeepCopy()), "")
	checkErr(t, BindingWriteAllowed(ctx, z, a, nobody, more, b), "not currently held")
	checkErr(t, BindingWriteAllowed(ctx, z, a, plainUser("lead"), more, b), "")
	crb := testCRB("x", "pod-reader", user("u1"))
	checkErr(t, BindingWriteAllowed(ctx, z, a, plainUser("lead"), crb, nil), "not currently held")
	checkErr(t, BindingWriteAllowed(ctx, z, a, plainUser("x", auth.GroupMasters), crb, nil), "")
	checkErr(t, BindingWriteAllowed(ctx, z, a, nobody, "x", nil), "unsupported object")
}

// checkErr fails unless err is nil (wantSub "") or contains wantSub.
func checkErr(t *testing.T, err error, wantSub string) {
	t.Helper()
	switch {
	case wantSub == "" && err != nil:
		t.Errorf("unexpected error: %v", err)
	case wantSub != "" && err == nil:
		t.Errorf("allowed, want error containing %q", wantSub)
	case wantSub != "" && !strings.Contains(err.Error(), wantSub):
		t.Errorf("error %q lacks %q", err, wantSub)
	}
}
