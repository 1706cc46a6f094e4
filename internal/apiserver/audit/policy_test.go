package audit

import (
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	policy, err := ParsePolicy([]byte(`
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ["/healthz*", /version]
- level: None
  users: [system:kube-proxy]
  verbs: [watch]
  resources: [{group: "", resources: [endpoints, services]}]
- level: RequestResponse
  resources: [{group: "", resources: [pods/log, "*/scale"]}]
- level: Request
  namespaces: [kube-system]
  resources: [{group: apps, resources: ["deployments/*"]}]
- level: Metadata
  resources: [{group: "", resources: [secrets, configmaps]}]
  omitStages: [ResponseStarted]
- level: Request
  userGroups: [system:masters]
  resources: [{group: "", resources: [configmaps], resourceNames: [special]}]
- level: Metadata
  nonResourceURLs: ["/api*"]
- level: Request
  verbs: [create]
`))
	if err != nil {
		t.Fatal(err)
	}
	admin := func(a Attributes) Attributes { a.User, a.Groups = "admin", []string{"system:masters"}; return a }
	tests := []struct {
		name  string
		attrs Attributes
		want  Level
		omit  []Stage
	}{
		{"health path", Attributes{Path: "/healthz/etcd", Verb: "get"}, LevelNone, []Stage{StageRequestReceived}},
		{"version exact", Attributes{Path: "/version", Verb: "get"}, LevelNone, nil},
		{"kube-proxy watch", Attributes{User: "system:kube-proxy", Verb: "watch", ResourceRequest: true, Resource: "services"}, LevelNone, nil},
		{"kube-proxy list falls through", Attributes{User: "system:kube-proxy", Verb: "list", ResourceRequest: true, Resource: "services"}, LevelNone, nil},
		{"pods/log", Attributes{Verb: "get", ResourceRequest: true, Resource: "pods", Subresource: "log"}, LevelRequestResponse, nil},
		{"pods without subresource", Attributes{Verb: "create", ResourceRequest: true, Resource: "pods"}, LevelRequest, nil},
		{"any scale subresource", Attributes{Verb: "update", ResourceRequest: true, Resource: "replicationcontrollers", Subresource: "scale"}, LevelRequestResponse, nil},
		{"deployments/* in kube-system", Attributes{Verb: "get", ResourceRequest: true, APIGroup: "apps", Resource: "deployments", Subresource: "status", Namespace: "kube-system"}, LevelRequest, nil},
		{"deployments/* elsewhere", Attributes{Verb: "get", ResourceRequest: true, APIGroup: "apps", Resource: "deployments", Namespace: "default"}, LevelNone, nil},
		{"secrets with rule omitStages", Attributes{Verb: "get", ResourceRequest: true, Resource: "secrets"}, LevelMetadata, []Stage{StageRequestReceived, StageResponseStarted}},
		{"first match wins over a later rule", admin(Attributes{Verb: "get", ResourceRequest: true, Resource: "configmaps", Name: "special"}), LevelMetadata, nil},
		{"non-resource prefix", Attributes{Verb: "get", Path: "/apis/apps/v1"}, LevelMetadata, nil},
		{"verbs rule", Attributes{Verb: "create", ResourceRequest: true, APIGroup: "batch", Resource: "jobs"}, LevelRequest, nil},
		{"no match", Attributes{Verb: "get", ResourceRequest: true, APIGroup: "batch", Resource: "jobs"}, LevelNone, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := policy.Evaluate(tc.attrs)
			if d.Level != tc.want {
				t.Fatalf("level = %s, want %s", d.Level, tc.want)
			}
			for _, s := range tc.omit {
				if !d.Omits(s) {
					t.Errorf("stage %s not omitted (omit %v)", s, d.OmitStages)
				}
			}
		})
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		attrs Attributes
		want  Level
	}{
		{"readyz", Attributes{Path: "/readyz", Verb: "get"}, LevelNone},
		{"events", Attributes{ResourceRequest: true, Resource: "events", Verb: "create"}, LevelNone},
		{"node lease renewal", Attributes{User: "system:node:n1", Groups: []string{"system:nodes"}, Verb: "update", ResourceRequest: true, APIGroup: "coordination.k8s.io", Resource: "leases"}, LevelNone},
		{"scheduler lease", Attributes{User: "system:kube-scheduler", Verb: "update", ResourceRequest: true, APIGroup: "coordination.k8s.io", Resource: "leases"}, LevelNone},
		{"someone else's lease", Attributes{User: "alice", Verb: "update", ResourceRequest: true, APIGroup: "coordination.k8s.io", Resource: "leases"}, LevelMetadata},
		{"secret read", Attributes{User: "alice", Verb: "get", ResourceRequest: true, Resource: "secrets"}, LevelMetadata},
	}
	for _, tc := range tests {
		if got := p.Evaluate(tc.attrs).Level; got != tc.want {
			t.Errorf("%s: level %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown field", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, user: [x]}]\n", "unknown field"},
		{"bad level", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]\n", "unknown level"},
		{"bad stage", "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [Later]\nrules: []\n", "unknown stage"},
		{"mixed rule", "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [/x], namespaces: [a]}]\n", "cannot be combined"},
		{"wrong kind", "apiVersion: audit.k8s.io/v1\nkind: Event\n", "want apiVersion"},
	}
	for _, tc := range tests {
		if _, err := ParsePolicy([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
