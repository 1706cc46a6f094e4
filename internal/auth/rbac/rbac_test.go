package rbac

import (
	"context"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// fixture is a small cluster's RBAC:
//   - alice: ClusterRoleBinding to pod-reader (cluster-wide get/list pods)
//   - bob: RoleBinding in ns a to the ClusterRole secret-reader
//   - carol: RoleBinding in ns a to the Role deployer of ns a
//   - group devs: RoleBinding in ns b to ClusterRole pod-reader
//   - sa a/build (explicit ns) and sa a/ci (binding's ns): RoleBinding in a
//   - group system:serviceaccounts:b: RoleBinding in b to secret-reader
//   - dave: bound to a missing ClusterRole, and to pod-reader in ns c
//   - eve: ClusterRoleBinding to a Role (invalid), and as a SA subject
//     without namespace in a ClusterRoleBinding (matches nobody)
//   - metrics: ClusterRoleBinding to url-reader
func fixture() *Authorizer {
	eveRole := testCRB("eve-role", "deployer", user("eve"))
	eveRole.RoleRef.Kind = "Role"
	src := NewStaticSource(
		[]*rbacv1.Role{testRole("a", "deployer", grant(verbs("create", "update"), "apps", "deployments"))},
		[]*rbacv1.ClusterRole{
			testClusterRole("pod-reader", grant(verbs("get", "list"), "", "pods")),
			testClusterRole("secret-reader", grant(verbs("get"), "", "secrets")),
			testClusterRole("url-reader", urls(verbs("get"), "/metrics", "/logs/*")),
		},
		[]*rbacv1.RoleBinding{
			testRB("a", "bob-secrets", "ClusterRole", "secret-reader", user("bob")),
			testRB("a", "carol-deploy", "Role", "deployer", user("carol")),
			testRB("b", "devs-pods", "ClusterRole", "pod-reader", group("devs")),
			testRB("a", "builders", "ClusterRole", "pod-reader", sa("a", "build"), sa("", "ci")),
			testRB("b", "sa-secrets", "ClusterRole", "secret-reader", group("system:serviceaccounts:b")),
			testRB("c", "dave-pods", "ClusterRole", "pod-reader", user("dave")),
		},
		[]*rbacv1.ClusterRoleBinding{
			testCRB("alice-pods", "pod-reader", user("alice")),
			testCRB("dave-missing", "no-such-role", user("dave")),
			eveRole,
			testCRB("metrics", "url-reader", user("metrics")),
			testCRB("eve-sa", "secret-reader", sa("", "eve")),
		},
	)
	return New(src)
}

func TestAuthorize(t *testing.T) {
	z := fixture()
	alice, bob, carol, dave := plainUser("alice"), plainUser("bob"), plainUser("carol"), plainUser("dave")
	tests := []struct {
		name   string
		attrs  auth.Attributes
		want   bool
		reason string // exact when set
	}{
		{"crb grants in a namespace", res(alice, "get", "", "pods", "", "a", "p"), true,
			`RBAC: allowed by ClusterRoleBinding "alice-pods" of ClusterRole "pod-reader" to User "alice"`},
		{"crb grants at cluster scope", res(alice, "list", "", "pods", "", "", ""), true, ""},
		{"crb verb not granted", res(alice, "delete", "", "pods", "", "a", "p"), false, ""},
		{"rb to clusterrole grants in its namespace", res(bob, "get", "", "secrets", "", "a", "s"), true,
			`RBAC: allowed by RoleBinding "bob-secrets/a" of ClusterRole "secret-reader" to User "bob"`},
		{"rb to clusterrole not in other namespaces", res(bob, "get", "", "secrets", "", "b", "s"), false, ""},
		{"rb to clusterrole not at cluster scope", res(bob, "get", "", "secrets", "", "", "s"), false, ""},
		{"rb to role", res(carol, "create", "apps", "deployments", "", "a", ""), true,
			`RBAC: allowed by RoleBinding "carol-deploy/a" of Role "deployer" to User "carol"`},
		{"rb to role other group", res(carol, "create", "extensions", "deployments", "", "a", ""), false, ""},
		{"group subject", res(plainUser("zed", "devs"), "list", "", "pods", "", "b", ""), true,
			`RBAC: allowed by RoleBinding "devs-pods/b" of ClusterRole "pod-reader" to Group "devs"`},
		{"group subject other ns", res(plainUser("zed", "devs"), "list", "", "pods", "", "a", ""), false, ""},
		{"sa explicit namespace", res(saUser("a", "build"), "get", "", "pods", "", "a", "p"), true,
			`RBAC: allowed by RoleBinding "builders/a" of ClusterRole "pod-reader" to ServiceAccount "build/a"`},
		{"sa binding namespace", res(saUser("a", "ci"), "get", "", "pods", "", "a", "p"), true,
			`RBAC: allowed by RoleBinding "builders/a" of ClusterRole "pod-reader" to ServiceAccount "ci/a"`},
		{"sa of another namespace", res(saUser("b", "ci"), "get", "", "pods", "", "a", "p"), false, ""},
		{"sa namespace group", res(saUser("b", "x"), "get", "", "secrets", "", "b", "s"), true,
			`RBAC: allowed by RoleBinding "sa-secrets/b" of ClusterRole "secret-reader" to Group "system:serviceaccounts:b"`},
		{"sa without ns in crb matches nobody", res(saUser("", "eve"), "get", "", "secrets", "", "a", "s"), false, ""},
		{"non-resource exact", nonRes(plainUser("metrics"), "get", "/metrics"), true,
			`RBAC: allowed by ClusterRoleBinding "metrics" of ClusterRole "url-reader" to User "metrics"`},
		{"non-resource prefix", nonRes(plainUser("metrics"), "get", "/logs/kubelet.log"), true, ""},
		{"non-resource other", nonRes(plainUser("metrics"), "get", "/debug/pprof"), false, ""},
		{"deny by default", res(plainUser("nobody"), "get", "", "pods", "", "a", "p"), false, ""},
		{"missing role reported, other binding still grants", res(dave, "get", "", "pods", "", "c", "p"), true, ""},
		{"missing role reported on denial", res(dave, "get", "", "pods", "", "a", "p"), false,
			`RBAC: ClusterRoleBinding "dave-missing": getting ClusterRole "no-such-role": clusterroles.rbac.authorization.k8s.io "no-such-role" not found`},
		{"crb to a role is an error", res(plainUser("eve"), "create", "apps", "deployments", "", "a", ""), false,
			`RBAC: ClusterRoleBinding "eve-role": role reference "deployer": a Role can only be referenced from a RoleBinding`},
		{"no user", auth.Attributes{Verb: "get", Path: "/metrics"}, false, "RBAC: no user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, reason, err := z.Authorize(context.Background(), tt.attrs)
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			want := auth.DecisionNoOpinion
			if tt.want {
				want = auth.DecisionAllow
			}
			if d != want {
				t.Errorf("decision = %v (%q), want %v", d, reason, want)
			}
			if tt.reason != "" && reason != tt.reason {
				t.Errorf("reason = %q\nwant     %q", reason, tt.reason)
			}
			if !tt.want && tt.reason == "" && reason != "" {
				t.Errorf("reason = %q, want none", reason)
			}
		})
	}
}

func TestAuthorizeSourceErrors(t *testing.T) {
	d, reason, err := New(failingSource{}).Authorize(context.Background(), res(plainUser("a"), "get", "", "pods", "", "ns", "p"))
	if err != nil || d != auth.DecisionNoOpinion {
		t.Fatalf("got %v, %v; want NoOpinion, nil", d, err)
	}
	for _, want := range []string{"listing ClusterRoleBindings: cache not synced", `listing RoleBindings in "ns": cache not synced`} {
		if !strings.Contains(reason, want) {
			t.Errorf("reason %q lacks %q", reason, want)
		}
	}
}

func TestRulesFor(t *testing.T) {
	z := fixture()
	res, nonRes, incomplete, err := z.RulesFor(plainUser("alice", "devs"), "b")
	if err != nil || incomplete {
		t.Fatalf("RulesFor: incomplete=%v err=%v", incomplete, err)
	}
	// alice-pods (cluster) and devs-pods (ns b): the same rule twice.
	if len(res) != 2 || CompactString(&res[0]) != `{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}` {
		t.Errorf("resource rules = %v", res)
	}
	if len(nonRes) != 0 {
		t.Errorf("non-resource rules = %v", nonRes)
	}

	res, nonRes, _, _ = z.RulesFor(plainUser("metrics"), "")
	if len(res) != 0 || len(nonRes) != 1 || CompactString(&nonRes[0]) != `{NonResourceURLs:["/metrics" "/logs/*"], Verbs:["get"]}` {
		t.Errorf("metrics rules = %v / %v", res, nonRes)
	}

	res, _, incomplete, err = z.RulesFor(plainUser("dave"), "c")
	if !incomplete || err == nil || !strings.Contains(err.Error(), "no-such-role") {
		t.Errorf("dave: incomplete=%v err=%v, want incomplete with the missing role", incomplete, err)
	}
	if len(res) != 1 {
		t.Errorf("dave: partial rules = %v, want the pod-reader rule", res)
	}
}

func TestRulesForReturnsCopies(t *testing.T) {
	z := fixture()
	res, _, _, _ := z.RulesFor(plainUser("alice"), "")
	res[0].Verbs[0] = "delete"
	if ok, _ := allowed(z, res0(plainUser("alice"))); !ok {
		t.Error("changing RulesFor's result changed the source's role")
	}
}

func res0(u *auth.User) auth.Attributes { return res(u, "get", "", "pods", "", "", "p") }

func TestMasters(t *testing.T) {
	m := Masters{}
	if ok, _ := allowed(m, res(plainUser("root", auth.GroupMasters), "delete", "", "nodes", "", "", "n1")); !ok {
		t.Error("system:masters member denied")
	}
	if ok, _ := allowed(m, nonRes(plainUser("root", auth.GroupMasters), "get", "/anything")); !ok {
		t.Error("system:masters member denied a URL")
	}
	d, _, _ := m.Authorize(context.Background(), res(plainUser("root", "admins"), "get", "", "pods", "", "", ""))
	if d != auth.DecisionNoOpinion {
		t.Errorf("non-member: %v, want NoOpinion", d)
	}
	if d, _, _ := m.Authorize(context.Background(), auth.Attributes{Verb: "get"}); d != auth.DecisionNoOpinion {
		t.Errorf("no user: %v, want NoOpinion", d)
	}
	rr, nr := m.RulesFor(plainUser("root", auth.GroupMasters))
	if len(rr) != 1 || len(nr) != 1 || rr[0].Resources[0] != "*" || nr[0].NonResourceURLs[0] != "*" {
		t.Errorf("masters RulesFor = %v / %v", rr, nr)
	}
	if rr, nr := m.RulesFor(plainUser("x")); rr != nil || nr != nil {
		t.Errorf("non-member RulesFor = %v / %v", rr, nr)
	}
}
