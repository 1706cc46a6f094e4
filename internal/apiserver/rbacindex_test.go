package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/skiffkube/skiff/internal/auth"
	"github.com/skiffkube/skiff/internal/auth/rbac"
)

// loadedIndex is an index filled directly, without watch caches.
func loadedIndex(roles []*rbacv1.ClusterRole, crbs []*rbacv1.ClusterRoleBinding, rbs []*rbacv1.RoleBinding) *rbacIndex {
	x := &rbacIndex{logger: slog.New(slog.DiscardHandler), byKind: map[string]map[string]runtime.Object{},
		synced: map[string]bool{}, syncedCh: make(chan struct{}), aggregateChanged: make(chan struct{}, 1)}
	load := func(kind string, objs []runtime.Object) {
		m := map[string]runtime.Object{}
		for _, o := range objs {
			m[indexKey(o)] = o
		}
		x.replace(kind, m)
	}
	var crObjs, crbObjs, rbObjs []runtime.Object
	for _, r := range roles {
		crObjs = append(crObjs, r)
	}
	for _, b := range crbs {
		crbObjs = append(crbObjs, b)
	}
	for _, b := range rbs {
		rbObjs = append(rbObjs, b)
	}
	load(kindRole, nil)
	load(kindClusterRole, crObjs)
	load(kindClusterRoleBinding, crbObjs)
	load(kindRoleBinding, rbObjs)
	return x
}

func viewBinding(ns, user string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "view-" + user},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}}}
}

func TestRBACIndexAggregatesAndUpdates(t *testing.T) {
	x := loadedIndex(rbac.DefaultClusterRoles(), rbac.DefaultClusterRoleBindings(), []*rbacv1.RoleBinding{viewBinding("a", "jane")})
	select {
	case <-x.Synced():
	default:
		t.Fatal("index not synced after loading every kind")
	}
	z := rbac.New(x)
	jane := &auth.User{Name: "jane", Groups: []string{auth.GroupAuthenticated}}
	ask := func(verb, group, resource, ns string) auth.Decision {
		d, _, _ := z.Authorize(context.Background(), auth.Attributes{User: jane, Verb: verb, APIGroup: group, Resource: resource, Namespace: ns, ResourceRequest: true})
		return d
	}
	if ask("list", "apps", "deployments", "a") != auth.DecisionAllow {
		t.Error("view (aggregated) does not grant listing deployments")
	}
	if ask("list", "apps", "deployments", "b") == auth.DecisionAllow {
		t.Error("view granted outside its namespace")
	}
	// A binding added, then removed, in another namespace.
	b := viewBinding("b", "jane")
	x.apply(kindRoleBinding, b, false)
	if ask("list", "", "pods", "b") != auth.DecisionAllow {
		t.Error("new binding not seen")
	}
	x.apply(kindRoleBinding, b, true)
	if ask("list", "", "pods", "b") == auth.DecisionAllow {
		t.Error("deleted binding still grants")
	}
	if ask("list", "", "pods", "a") != auth.DecisionAllow {
		t.Error("removing one namespace's binding affected another")
	}
	if stale := x.staleAggregates(); len(stale) != 3 {
		t.Errorf("stale aggregated roles = %d, want admin, edit and view", len(stale))
	}
}

// BenchmarkRBACDecision measures one RBAC decision over the default roles
// and 1000 namespaces with a binding each: the per-request cost of
// authorization for a user granted by a RoleBinding.
func BenchmarkRBACDecision(b *testing.B) {
	var rbs []*rbacv1.RoleBinding
	for i := range 1000 {
		rbs = append(rbs, viewBinding(fmt.Sprintf("ns-%d", i), fmt.Sprintf("user-%d", i)))
	}
	z := rbac.New(loadedIndex(rbac.DefaultClusterRoles(), rbac.DefaultClusterRoleBindings(), rbs))
	attrs := auth.Attributes{User: &auth.User{Name: "user-500", Groups: []string{auth.GroupAuthenticated}},
		Verb: "list", APIGroup: "apps", Resource: "deployments", Namespace: "ns-500", ResourceRequest: true}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if d, _, _ := z.Authorize(ctx, attrs); d != auth.DecisionAllow {
			b.Fatal("denied")
		}
	}
}
