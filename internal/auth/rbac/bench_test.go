package rbac

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// benchAuthorizer builds a cluster with the aggregated defaults, 100 other
// users' ClusterRoleBindings and 100 RoleBindings in the namespace, and the
// user "u" (group "team") holding 20 bindings: 10 ClusterRoleBindings and
// 10 RoleBindings, each to a role of 5 rules that do not match the request,
// except the last RoleBinding's role, whose last rule does.
func benchAuthorizer(tb testing.TB) (*Authorizer, *auth.User) {
	tb.Helper()
	roles, err := AggregateAll(DefaultClusterRoles())
	if err != nil {
		tb.Fatal(err)
	}
	crbs := DefaultClusterRoleBindings()
	var rbs []*rbacv1.RoleBinding
	for i := range 100 {
		crbs = append(crbs, testCRB(fmt.Sprintf("other-%d", i), "view", user(fmt.Sprintf("other-%d", i))))
		rbs = append(rbs, testRB("ns", fmt.Sprintf("other-%d", i), "ClusterRole", "edit", user(fmt.Sprintf("other-%d", i))))
	}
	for i := range 20 {
		name := fmt.Sprintf("u-role-%d", i)
		var rules []rbacv1.PolicyRule
		for j := range 5 {
			rules = append(rules, grant(verbs("get", "list", "watch"), "example.com", fmt.Sprintf("things%d", j)))
		}
		if i == 19 {
			rules[4] = grant(verbs("get", "list", "watch"), "apps", "deployments")
		}
		roles = append(roles, testClusterRole(name, rules...))
		if i < 10 {
			crbs = append(crbs, testCRB(name, name, group("team")))
		} else {
			rbs = append(rbs, testRB("ns", name, "ClusterRole", name, user("u")))
		}
	}
	return New(NewStaticSource(nil, roles, rbs, crbs)), plainUser("u", "team")
}

func BenchmarkAuthorize(b *testing.B) {
	a, u := benchAuthorizer(b)
	ctx := context.Background()
	for _, bc := range []struct {
		name  string
		attrs auth.Attributes
		want  auth.Decision
	}{
		{"allowed-by-last-binding", res(u, "get", "apps", "deployments", "", "ns", "d"), auth.DecisionAllow},
		{"denied", res(u, "delete", "apps", "deployments", "", "ns", "d"), auth.DecisionNoOpinion},
	} {
		b.Run(bc.name, func(b *testing.B) {
			durations := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				d, _, _ := a.Authorize(ctx, bc.attrs)
				durations = append(durations, time.Since(start))
				if d != bc.want {
					b.Fatalf("decision %v, want %v", d, bc.want)
				}
			}
			slices.Sort(durations)
			b.ReportMetric(float64(durations[len(durations)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(durations[len(durations)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

// TestAuthorizeLatency guards the ≤ 50 µs p50 target loosely (10× slack
// for loaded test machines), so a regression to pathological costs fails.
func TestAuthorizeLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	a, u := benchAuthorizer(t)
	attrs := res(u, "get", "apps", "deployments", "", "ns", "d")
	durations := make([]time.Duration, 2000)
	for i := range durations {
		start := time.Now()
		if d, _, _ := a.Authorize(context.Background(), attrs); d != auth.DecisionAllow {
			t.Fatalf("decision %v", d)
		}
		durations[i] = time.Since(start)
	}
	slices.Sort(durations)
	if p50 := durations[len(durations)/2]; p50 > 500*time.Microsecond {
		t.Errorf("p50 = %v, want well under 50µs", p50)
	}
}
