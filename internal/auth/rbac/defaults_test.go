package rbac

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// defaultsAuthorizer evaluates the aggregated defaults plus the given
// namespaced bindings, behind Masters as the server chains them.
func defaultsAuthorizer(t testing.TB, rbs ...*rbacv1.RoleBinding) (auth.Authorizer, *Authorizer) {
	t.Helper()
	roles, err := AggregateAll(DefaultClusterRoles())
	if err != nil {
		t.Fatal(err)
	}
	a := New(NewStaticSource(nil, roles, rbs, DefaultClusterRoleBindings()))
	return auth.AuthorizerUnion{Masters{}, a}, a
}

func TestDefaultRoles(t *testing.T) {
	viewer, editor, adminU := plainUser("viewer"), plainUser("editor"), plainUser("nsadmin")
	z, _ := defaultsAuthorizer(t,
		testRB("team", "v", "ClusterRole", "view", user("viewer")),
		testRB("team", "e", "ClusterRole", "edit", user("editor")),
		testRB("team", "a", "ClusterRole", "admin", user("nsadmin")),
	)
	anon := &auth.User{Name: "system:anonymous", Groups: []string{GroupUnauthenticated}}
	sched, kcm := plainUser(UserKubeScheduler), plainUser(UserKubeControllerManager)
	rbacG := rbacv1.GroupName
	tests := []struct {
		name  string
		attrs auth.Attributes
		want  bool
	}{
		{"view reads pods", res(viewer, "list", "", "pods", "", "team", ""), true},
		{"view reads pod logs", res(viewer, "get", "", "pods", "log", "team", "p"), true},
		{"view reads deployments", res(viewer, "watch", "apps", "deployments", "", "team", ""), true},
		{"view cannot read secrets", res(viewer, "get", "", "secrets", "", "team", "s"), false},
		{"view cannot list secrets", res(viewer, "list", "", "secrets", "", "team", ""), false},
		{"view cannot exec", res(viewer, "create", "", "pods", "exec", "team", "p"), false},
		{"view cannot write", res(viewer, "create", "", "configmaps", "", "team", ""), false},
		{"view only in its namespace", res(viewer, "list", "", "pods", "", "other", ""), false},
		{"view not cluster-wide", res(viewer, "list", "", "pods", "", "", ""), false},
		{"view cannot read roles", res(viewer, "get", rbacG, "roles", "", "team", "r"), false},
		{"edit writes deployments", res(editor, "create", "apps", "deployments", "", "team", ""), true},
		{"edit scales deployments", res(editor, "update", "apps", "deployments", "scale", "team", "d"), true},
		{"edit reads secrets", res(editor, "get", "", "secrets", "", "team", "s"), true},
		{"edit execs", res(editor, "create", "", "pods", "exec", "team", "p"), true},
		{"edit cannot write roles", res(editor, "create", rbacG, "roles", "", "team", ""), false},
		{"edit cannot write rolebindings", res(editor, "create", rbacG, "rolebindings", "", "team", ""), false},
		{"edit cannot write endpoints", res(editor, "create", "", "endpoints", "", "team", ""), false},
		{"edit cannot touch its namespace", res(editor, "delete", "", "namespaces", "", "team", "team"), false},
		{"admin writes roles in its namespace", res(adminU, "create", rbacG, "roles", "", "team", ""), true},
		{"admin writes rolebindings in its namespace", res(adminU, "update", rbacG, "rolebindings", "", "team", "b"), true},
		{"admin cannot write roles elsewhere", res(adminU, "create", rbacG, "roles", "", "other", ""), false},
		{"admin cannot write clusterroles", res(adminU, "create", rbacG, "clusterroles", "", "", ""), false},
		{"admin cannot write resourcequotas", res(adminU, "update", "", "resourcequotas", "", "team", "q"), false},
		{"masters via cluster-admin", res(plainUser("root", auth.GroupMasters), "delete", "", "nodes", "", "", "n"), true},
		{"authenticated discovery", nonRes(viewer, "get", "/apis/apps/v1"), true},
		{"authenticated self review", res(viewer, "create", "authorization.k8s.io", "selfsubjectaccessreviews", "", "", ""), true},
		{"authenticated whoami", res(viewer, "create", "authentication.k8s.io", "selfsubjectreviews", "", "", ""), true},
		{"authenticated cannot post discovery", nonRes(viewer, "post", "/apis"), false},
		{"anonymous healthz", nonRes(anon, "get", "/healthz"), true},
		{"anonymous version", nonRes(anon, "get", "/version"), true},
		{"anonymous no discovery", nonRes(anon, "get", "/api"), false},
		{"anonymous no metrics", nonRes(anon, "get", "/metrics"), false},
		{"scheduler binds pods", res(sched, "create", "", "pods", "binding", "team", "p"), true},
		{"scheduler reads nodes", res(sched, "list", "", "nodes", "", "", ""), true},
		{"scheduler own lease", res(sched, "update", "coordination.k8s.io", "leases", "", "kube-system", SchedulerLeaseName), true},
		{"scheduler not others' lease", res(sched, "update", "coordination.k8s.io", "leases", "", "kube-system", ControllerManagerLeaseName), false},
		{"scheduler no secrets", res(sched, "get", "", "secrets", "", "team", "s"), false},
		{"controller manager creates pods", res(kcm, "create", "", "pods", "", "team", ""), true},
		{"controller manager deletes anything", res(kcm, "delete", "apps", "replicasets", "", "team", "r"), true},
		{"controller manager cannot bind", res(kcm, "bind", rbacG, "clusterroles", "", "", "cluster-admin"), false},
		{"controller manager cannot impersonate", res(kcm, "impersonate", "", "users", "", "", "admin"), false},
		{"controller manager cannot create rolebindings", res(kcm, "create", rbacG, "rolebindings", "", "team", ""), false},
		{"node not bound by default", res(plainUser("system:node:n1", GroupNodes), "get", "", "pods", "", "team", "p"), false},
		{"proxy lists endpointslices", res(plainUser(UserKubeProxy), "watch", "discovery.k8s.io", "endpointslices", "", "", ""), true},
		{"proxy cannot read secrets", res(plainUser(UserKubeProxy), "list", "", "secrets", "", "", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, reason := allowed(z, tt.attrs); got != tt.want {
				t.Errorf("allowed = %v (%s), want %v", got, reason, tt.want)
			}
		})
	}
}

func TestDefaultsEscalation(t *testing.T) {
	z, a := defaultsAuthorizer(t,
		testRB("team", "e", "ClusterRole", "edit", user("editor")),
		testRB("team", "a", "ClusterRole", "admin", user("nsadmin")),
	)
	ctx := context.Background()
	ref := func(name string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}
	}
	// An admin may hand out admin, edit and view in the namespace...
	for _, role := range []string{"admin", "edit", "view"} {
		checkErr(t, BindAllowed(ctx, z, a, plainUser("nsadmin"), "team", ref(role)), "")
	}
	// ...but not elsewhere, nor cluster-admin.
	checkErr(t, BindAllowed(ctx, z, a, plainUser("nsadmin"), "other", ref("view")), "not currently held")
	checkErr(t, BindAllowed(ctx, z, a, plainUser("nsadmin"), "team", ref("cluster-admin")), "not currently held")
	// An editor holds view's rules but cannot write bindings at all; the
	// bind check alone would let it bind view.
	checkErr(t, BindAllowed(ctx, z, a, plainUser("editor"), "team", ref("view")), "")
	checkErr(t, BindAllowed(ctx, z, a, plainUser("editor"), "team", ref("admin")), "not currently held")
	// An admin may write a Role with rules it holds, not with more.
	checkErr(t, RoleWriteAllowed(ctx, z, a, plainUser("nsadmin"),
		testRole("team", "r", grant(verbs("get", "list"), "", "secrets")), nil), "")
	checkErr(t, RoleWriteAllowed(ctx, z, a, plainUser("nsadmin"),
		testRole("team", "r", grant(verbs("update"), "", "resourcequotas")), nil), "not currently held")
}

func TestDefaultsConsistent(t *testing.T) {
	roles := map[string]*rbacv1.ClusterRole{}
	for _, cr := range DefaultClusterRoles() {
		if roles[cr.Name] != nil {
			t.Errorf("ClusterRole %q twice", cr.Name)
		}
		roles[cr.Name] = cr
		if cr.Labels[BootstrapLabel] != BootstrapLabelValue || cr.Annotations[rbacv1.AutoUpdateAnnotationKey] != "true" {
			t.Errorf("ClusterRole %q lacks the bootstrap label or autoupdate annotation", cr.Name)
		}
		if len(cr.Rules) == 0 && cr.AggregationRule == nil {
			t.Errorf("ClusterRole %q grants nothing", cr.Name)
		}
		for i, rule := range cr.Rules {
			if len(rule.Verbs) == 0 || (len(rule.Resources) == 0) == (len(rule.NonResourceURLs) == 0) {
				t.Errorf("ClusterRole %q rule %d malformed: %s", cr.Name, i, CompactString(&rule))
			}
		}
	}
	for _, name := range []string{"cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
		"system:public-info-viewer", "system:kube-scheduler", "system:kube-controller-manager", "system:node"} {
		if roles[name] == nil {
			t.Errorf("default ClusterRole %q missing", name)
		}
	}
	seen := map[string]bool{}
	for _, b := range append(DefaultClusterRoleBindings(), NodesGroupBinding()) {
		if seen[b.Name] {
			t.Errorf("ClusterRoleBinding %q twice", b.Name)
		}
		seen[b.Name] = true
		if b.RoleRef.Kind != "ClusterRole" || roles[b.RoleRef.Name] == nil {
			t.Errorf("ClusterRoleBinding %q refers to unknown %s %q", b.Name, b.RoleRef.Kind, b.RoleRef.Name)
		}
	}
	// Calls return fresh objects.
	DefaultClusterRoles()[0].Rules[0].Verbs[0] = "get"
	if DefaultClusterRoles()[0].Rules[0].Verbs[0] != "*" {
		t.Error("DefaultClusterRoles shares state between calls")
	}
}
