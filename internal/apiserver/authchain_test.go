package apiserver

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/skiffkube/skiff/internal/auth"
)

func TestForbiddenMessage(t *testing.T) {
	jane := &auth.User{Name: "jane"}
	cases := []struct {
		name   string
		attrs  auth.Attributes
		reason string
		want   string
	}{
		{"namespaced list", auth.Attributes{User: jane, Verb: "list", Resource: "pods", Namespace: "default", ResourceRequest: true}, "",
			`pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"`},
		{"named, grouped", auth.Attributes{User: jane, Verb: "get", APIGroup: "apps", Resource: "deployments", Name: "web", Namespace: "ns", ResourceRequest: true}, "",
			`deployments.apps "web" is forbidden: User "jane" cannot get resource "deployments" in API group "apps" in the namespace "ns"`},
		{"subresource", auth.Attributes{User: jane, Verb: "get", Resource: "pods", Subresource: "log", Name: "p", Namespace: "ns", ResourceRequest: true}, "",
			`pods "p" is forbidden: User "jane" cannot get resource "pods/log" in API group "" in the namespace "ns"`},
		{"cluster scope with reason", auth.Attributes{User: jane, Verb: "list", Resource: "nodes", ResourceRequest: true}, "RBAC: oops",
			`nodes is forbidden: User "jane" cannot list resource "nodes" in API group "" at the cluster scope: RBAC: oops`},
		{"path", auth.Attributes{User: jane, Verb: "get", Path: "/metrics"}, "",
			`forbidden: User "jane" cannot get path "/metrics"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := forbidden(c.attrs, c.reason)
			if err.Error() != c.want || !apierrors.IsForbidden(err) {
				t.Errorf("got  %s\nwant %s", err.Error(), c.want)
			}
			if d := err.ErrStatus.Details; d == nil || d.Kind != c.attrs.Resource || d.Name != c.attrs.Name {
				t.Errorf("details = %+v", d)
			}
		})
	}
}

func TestNodeCertificateAllowed(t *testing.T) {
	cases := []struct {
		name string
		user *auth.User
		node string
		ok   bool
	}{
		{"bootstrapper, any node", &auth.User{Name: "system:bootstrap:abcdef", Groups: []string{"system:bootstrappers"}}, "n1", true},
		{"node renews its own", &auth.User{Name: "system:node:n1", Groups: []string{"system:nodes"}}, "n1", true},
		{"node asks for another", &auth.User{Name: "system:node:n1", Groups: []string{"system:nodes"}}, "n2", false},
		{"node name without the group", &auth.User{Name: "system:node:n1"}, "n1", false},
		{"someone else", &auth.User{Name: "jane", Groups: []string{"system:authenticated"}}, "n1", false},
		{"no user", nil, "n1", false},
	}
	for _, c := range cases {
		if err := nodeCertificateAllowed(c.user, c.node); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
