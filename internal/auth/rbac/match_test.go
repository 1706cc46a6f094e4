package rbac

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

func TestRuleAllows(t *testing.T) {
	u := plainUser("u")
	podsGet := grant(verbs("get"), "", "pods")
	tests := []struct {
		name  string
		rule  rbacv1.PolicyRule
		attrs auth.Attributes
		want  bool
	}{
		{"exact", podsGet, res(u, "get", "", "pods", "", "ns", "p"), true},
		{"other verb", podsGet, res(u, "list", "", "pods", "", "ns", ""), false},
		{"other group", podsGet, res(u, "get", "apps", "pods", "", "ns", "p"), false},
		{"other resource", podsGet, res(u, "get", "", "secrets", "", "ns", "s"), false},
		{"verb star", grant(verbs("*"), "", "pods"), res(u, "deletecollection", "", "pods", "", "ns", ""), true},
		{"group star", grantGroups(verbs("get"), []string{"*"}, "deployments"), res(u, "get", "apps", "deployments", "", "ns", "d"), true},
		{"resource star", grant(verbs("get"), "", "*"), res(u, "get", "", "secrets", "", "ns", "s"), true},
		{"resource star covers subresource", grant(verbs("get"), "", "*"), res(u, "get", "", "pods", "log", "ns", "p"), true},
		{"resource does not cover its subresource", podsGet, res(u, "get", "", "pods", "log", "ns", "p"), false},
		{"subresource exact", grant(verbs("get"), "", "pods/log"), res(u, "get", "", "pods", "log", "ns", "p"), true},
		{"subresource rule does not cover resource", grant(verbs("get"), "", "pods/log"), res(u, "get", "", "pods", "", "ns", "p"), false},
		{"other subresource", grant(verbs("get"), "", "pods/log"), res(u, "get", "", "pods", "exec", "ns", "p"), false},
		{"star slash sub", grant(verbs("update"), "apps", "*/scale"), res(u, "update", "apps", "deployments", "scale", "ns", "d"), true},
		{"star slash sub other sub", grant(verbs("update"), "apps", "*/scale"), res(u, "update", "apps", "deployments", "status", "ns", "d"), false},
		{"star slash sub same length other sub", grant(verbs("get"), "", "*/log"), res(u, "get", "", "pods", "tag", "ns", "p"), false},
		{"star slash sub not the resource", grant(verbs("update"), "apps", "*/scale"), res(u, "update", "apps", "deployments", "", "ns", "d"), false},
		{"resource/star is not a wildcard", grant(verbs("get"), "", "pods/*"), res(u, "get", "", "pods", "log", "ns", "p"), false},
		{"prefix of resource is not a match", grant(verbs("get"), "", "pod/log"), res(u, "get", "", "pods", "log", "ns", "p"), false},
		{"name listed, get", named(podsGet, "a", "b"), res(u, "get", "", "pods", "", "ns", "b"), true},
		{"name not listed", named(podsGet, "a"), res(u, "get", "", "pods", "", "ns", "c"), false},
		{"names never match list", named(grant(verbs("list"), "", "pods"), "a"), res(u, "list", "", "pods", "", "ns", ""), false},
		{"names never match create without name", named(grant(verbs("create"), "", "pods"), "a"), res(u, "create", "", "pods", "", "ns", ""), false},
		{"no names match any", podsGet, res(u, "get", "", "pods", "", "ns", "zzz"), true},
		{"url exact", urls(verbs("get"), "/healthz"), nonRes(u, "get", "/healthz"), true},
		{"url other", urls(verbs("get"), "/healthz"), nonRes(u, "get", "/healthz/etcd"), false},
		{"url prefix star", urls(verbs("get"), "/apis/*"), nonRes(u, "get", "/apis/apps/v1"), true},
		{"url prefix star matches the bare prefix", urls(verbs("get"), "/apis/*"), nonRes(u, "get", "/apis/"), true},
		{"url prefix star needs the slash", urls(verbs("get"), "/apis/*"), nonRes(u, "get", "/apis"), false},
		{"url star", urls(verbs("get"), "*"), nonRes(u, "get", "/metrics"), true},
		{"url verb", urls(verbs("get"), "/metrics"), nonRes(u, "post", "/metrics"), false},
		{"resource rule never matches a url", grant(verbs("*"), "*", "*"), nonRes(u, "get", "/healthz"), false},
		{"url rule never matches a resource", urls(verbs("*"), "*"), res(u, "get", "", "pods", "", "ns", "p"), false},
		{"empty rule", rbacv1.PolicyRule{}, res(u, "get", "", "pods", "", "ns", "p"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RuleAllows(&tt.attrs, &tt.rule); got != tt.want {
				t.Errorf("RuleAllows(%+v, %s) = %v, want %v", tt.attrs, CompactString(&tt.rule), got, tt.want)
			}
		})
	}
}

func TestSubjectMatches(t *testing.T) {
	tests := []struct {
		name    string
		user    *auth.User
		subject rbacv1.Subject
		ns      string
		want    bool
	}{
		{"user", plainUser("alice"), user("alice"), "", true},
		{"other user", plainUser("alice"), user("bob"), "", false},
		{"group", plainUser("alice", "devs"), group("devs"), "", true},
		{"not in group", plainUser("alice"), group("devs"), "", false},
		{"user name is not a group", plainUser("devs"), group("devs"), "", false},
		{"sa explicit ns", saUser("ns1", "build"), sa("ns1", "build"), "", true},
		{"sa other ns", saUser("ns2", "build"), sa("ns1", "build"), "ns2", false},
		{"sa binding ns", saUser("ns1", "build"), sa("", "build"), "ns1", true},
		{"sa no ns at cluster scope", saUser("ns1", "build"), sa("", "build"), "", false},
		{"sa name prefix", saUser("ns1", "build-x"), sa("ns1", "build"), "", false},
		{"sa ns prefix", saUser("ns10", "build"), sa("ns1", "build"), "", false},
		{"plain user named like a sa subject", plainUser("build"), sa("ns1", "build"), "", false},
		{"sa group", saUser("ns1", "build"), group("system:serviceaccounts:ns1"), "", true},
		{"all sa group", saUser("ns1", "build"), group(GroupServiceAccounts), "", true},
		{"unknown kind", plainUser("alice"), rbacv1.Subject{Kind: "Robot", Name: "alice"}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := subjectMatches(tt.user, &tt.subject, tt.ns); got != tt.want {
				t.Errorf("subjectMatches(%q, %+v, %q) = %v, want %v", tt.user.Name, tt.subject, tt.ns, got, tt.want)
			}
		})
	}
}
