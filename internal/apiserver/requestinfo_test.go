package apiserver

import (
	"net/http/httptest"
	"testing"
)

func TestParseRequestInfo(t *testing.T) {
	cases := []struct {
		method, url string
		want        requestInfo
	}{
		{"GET", "/version", requestInfo{Verb: "get"}},
		{"GET", "/api", requestInfo{Verb: "get"}},
		{"GET", "/api/v1", requestInfo{Verb: "get", APIPrefix: "api", APIVersion: "v1"}},
		{"GET", "/apis/apps/v1", requestInfo{Verb: "get", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1"}},
		{"GET", "/api/v1/pods", requestInfo{IsResource: true, Verb: "list", APIPrefix: "api", APIVersion: "v1", Resource: "pods"}},
		{"GET", "/api/v1/namespaces/ns1/pods?watch=1", requestInfo{IsResource: true, Verb: "watch", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "pods"}},
		{"GET", "/api/v1/watch/namespaces/ns1/pods", requestInfo{IsResource: true, Verb: "watch", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "pods"}},
		{"GET", "/api/v1/namespaces/ns1/pods/web/log", requestInfo{IsResource: true, Verb: "get", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "pods", Name: "web", Subresource: "log"}},
		{"GET", "/api/v1/namespaces/ns1", requestInfo{IsResource: true, Verb: "get", APIPrefix: "api", APIVersion: "v1", Resource: "namespaces", Name: "ns1"}},
		{"PUT", "/api/v1/namespaces/ns1/finalize", requestInfo{IsResource: true, Verb: "update", APIPrefix: "api", APIVersion: "v1", Resource: "namespaces", Name: "ns1", Subresource: "finalize"}},
		{"DELETE", "/apis/apps/v1/namespaces/ns1/deployments", requestInfo{IsResource: true, Verb: "deletecollection", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Namespace: "ns1", Resource: "deployments"}},
		{"PATCH", "/apis/apps/v1/namespaces/ns1/deployments/d/scale", requestInfo{IsResource: true, Verb: "patch", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Namespace: "ns1", Resource: "deployments", Name: "d", Subresource: "scale"}},
		{"POST", "/api/v1/namespaces/ns1/pods/web/binding", requestInfo{IsResource: true, Verb: "create", APIPrefix: "api", APIVersion: "v1", Namespace: "ns1", Resource: "pods", Name: "web", Subresource: "binding"}},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.url, nil)
		got := parseRequestInfo(r)
		c.want.Path = r.URL.Path
		if got != c.want {
			t.Errorf("%s %s:\n got %+v\nwant %+v", c.method, c.url, got, c.want)
		}
	}
}
