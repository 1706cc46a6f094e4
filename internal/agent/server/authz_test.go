package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

func TestRequestAttributes(t *testing.T) {
	tests := []struct {
		method, path string
		verb, subres string
	}{
		{"GET", "/stats/summary", "get", SubresourceStats},
		{"GET", "/stats", "get", SubresourceStats},
		{"GET", "/metrics", "get", SubresourceMetrics},
		{"GET", "/metrics/cadvisor", "get", SubresourceMetrics},
		{"GET", "/metrics/", "get", SubresourceMetrics},
		{"GET", "/logs/syslog", "get", SubresourceLog},
		{"GET", "/spec/", "get", SubresourceSpec},
		{"HEAD", "/spec", "get", SubresourceSpec},
		{"GET", "/pods", "get", SubresourceProxy},
		{"GET", "/healthz", "get", SubresourceProxy},
		{"GET", "/containerLogs/ns/p/c", "get", SubresourceProxy},
		{"POST", "/exec/ns/p/c", "create", SubresourceProxy},
		{"GET", "/exec/ns/p/c", "get", SubresourceProxy},
		{"POST", "/attach/ns/p/c", "create", SubresourceProxy},
		{"POST", "/portForward/ns/p", "create", SubresourceProxy},
		{"POST", "/run/ns/p/c", "create", SubresourceProxy},
		{"PUT", "/stats/x", "update", SubresourceStats},
		{"PATCH", "/spec", "patch", SubresourceSpec},
		{"DELETE", "/metrics", "delete", SubresourceMetrics},
		{"OPTIONS", "/stats", "options", SubresourceStats},
		// Prefixes must be whole segments.
		{"GET", "/statsx", "get", SubresourceProxy},
		{"GET", "/logsfoo/x", "get", SubresourceProxy},
		{"GET", "/", "get", SubresourceProxy},
		// Paths that are not clean are proxy, whatever they start with.
		{"GET", "/stats/../exec/ns/p/c", "get", SubresourceProxy},
		{"GET", "/stats/./summary", "get", SubresourceProxy},
		{"GET", "/stats//summary", "get", SubresourceProxy},
		{"GET", "//stats/summary", "get", SubresourceProxy},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "https://node:10250/", nil)
		r.URL.Path = tt.path
		got := RequestAttributes("n1", r)
		want := Attributes{Verb: tt.verb, Subresource: tt.subres, Node: "n1"}
		if got != want {
			t.Errorf("%s %s: got %+v, want %+v", tt.method, tt.path, got, want)
		}
	}
}

// fakeReviews answers SubjectAccessReviews from a table of users'
// allowed subresources and records the reviews sent.
type fakeReviews struct {
	client  *fake.Clientset
	sent    []authorizationv1.SubjectAccessReviewSpec
	allowed map[string][]string // user → subresources
	fail    error
}

func newFakeReviews(allowed map[string][]string) *fakeReviews {
	f := &fakeReviews{client: fake.NewClientset(), allowed: allowed}
	f.client.PrependReactor("create", "subjectaccessreviews", func(a clienttesting.Action) (bool, runtime.Object, error) {
		sar := a.(clienttesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		f.sent = append(f.sent, sar.Spec)
		if f.fail != nil {
			return true, nil, f.fail
		}
		for _, sub := range f.allowed[sar.Spec.User] {
			if sub == sar.Spec.ResourceAttributes.Subresource {
				sar.Status = authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "bound"}
				return true, sar, nil
			}
		}
		sar.Status = authorizationv1.SubjectAccessReviewStatus{Reason: "no binding"}
		return true, sar, nil
	})
	return f
}

func TestSARAuthorizer(t *testing.T) {
	f := newFakeReviews(map[string][]string{"alice": {SubresourceStats}})
	now := time.Unix(1000, 0)
	z, err := NewSARAuthorizer(SARConfig{Reviews: f.client.AuthorizationV1().SubjectAccessReviews(),
		MaxEntries: 2, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stats := Attributes{Verb: "get", Subresource: SubresourceStats, Node: "n1"}
	proxy := Attributes{Verb: "create", Subresource: SubresourceProxy, Node: "n1"}
	steps := []struct {
		name     string
		advance  time.Duration
		user     string
		groups   []string
		attrs    Attributes
		allowed  bool
		reason   string
		wantSent int // reviews sent so far
	}{
		{"allowed asks", 0, "alice", []string{"g1"}, stats, true, "bound", 1},
		{"allowed is remembered", 4 * time.Minute, "alice", []string{"g1"}, stats, true, "bound", 1},
		{"other groups ask again", 0, "alice", []string{"g2"}, stats, true, "bound", 2},
		{"allowed expires after 5m", time.Minute, "alice", []string{"g1"}, stats, true, "bound", 3},
		{"denied asks", 0, "alice", []string{"g1"}, proxy, false, "no binding", 4},
		{"denied is remembered", 29 * time.Second, "alice", []string{"g1"}, proxy, false, "no binding", 4},
		{"denied expires after 30s", time.Second, "alice", []string{"g1"}, proxy, false, "no binding", 5},
		{"other user asks", 0, "bob", nil, stats, false, "no binding", 6},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		allowed, reason, err := z.Authorize(ctx, s.user, s.groups, s.attrs)
		if err != nil || allowed != s.allowed || reason != s.reason || len(f.sent) != s.wantSent {
			t.Fatalf("%s: got %v %q %v after %d reviews, want %v %q after %d",
				s.name, allowed, reason, err, len(f.sent), s.allowed, s.reason, s.wantSent)
		}
	}
	want := authorizationv1.SubjectAccessReviewSpec{User: "alice", Groups: []string{"g1"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "create", Version: "v1", Resource: "nodes", Subresource: "proxy", Name: "n1"}}
	if got := f.sent[4]; !reflect.DeepEqual(got, want) {
		t.Errorf("review sent: got %+v, want %+v", got, want)
	}
	if n := z.cache.len(); n != 2 {
		t.Errorf("cache holds %d answers, want at most 2", n)
	}
	// Errors are returned and not remembered.
	f.fail = errors.New("connection refused")
	if _, _, err := z.Authorize(ctx, "carol", nil, stats); err == nil {
		t.Error("a failed review gave no error")
	}
	f.fail = nil
	if allowed, _, err := z.Authorize(ctx, "carol", nil, stats); err != nil || allowed || len(f.sent) != 8 {
		t.Errorf("after an error: got %v %v after %d reviews, want a new review denying", allowed, err, len(f.sent))
	}
}

func TestDecisionCacheEvictsLeastRecentlyUsed(t *testing.T) {
	now := time.Unix(0, 0)
	c := newDecisionCache(2)
	live := decision{allowed: true, expires: now.Add(time.Minute)}
	c.put("a", live)
	c.put("b", live)
	if _, ok := c.get("a", now); !ok { // a is now the most recently used
		t.Fatal("a missing")
	}
	c.put("c", live)
	for key, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if _, ok := c.get(key, now); ok != want {
			t.Errorf("%s cached: got %v, want %v", key, ok, want)
		}
	}
	if _, ok := c.get("a", now.Add(time.Minute)); ok {
		t.Error("an expired answer was returned")
	}
	if c.len() != 1 {
		t.Errorf("expired answer kept: %d entries, want 1", c.len())
	}
}

func TestCacheKeysDoNotCollide(t *testing.T) {
	a := Attributes{Verb: "get", Subresource: "proxy", Node: "n"}
	keys := map[string]string{
		cacheKey("ab", nil, a):               "user ab",
		cacheKey("a", []string{"b"}, a):      "user a group b",
		cacheKey("a", []string{"b", "c"}, a): "groups b,c",
		cacheKey("a", []string{"b,c"}, a):    "group b,c",
		cacheKey("a", []string{"c", "b"}, a): "groups c,b",
	}
	if len(keys) != 5 {
		t.Errorf("keys collide: %v", keys)
	}
}

func TestEndpointDelegatedAuthorization(t *testing.T) {
	f := newFakeReviews(map[string][]string{"alice": {SubresourceProxy}, "bob": {SubresourceStats}})
	z, err := NewSARAuthorizer(SARConfig{Reviews: f.client.AuthorizationV1().SubjectAccessReviews()})
	if err != nil {
		t.Fatal(err)
	}
	base, clients := serve(t, fakePods{}, map[string][]string{"alice": {"team"}, "bob": nil, APIServerUser: nil},
		func(c *Config) { c.Authorizer, c.NodeName = z, "n1" })
	tests := []struct {
		user     string
		path     string
		wantCode int
		wantBody string
	}{
		{"alice", "/healthz", 200, "ok"},
		{"bob", "/healthz", 403, "Forbidden (user=bob, verb=get, resource=nodes, subresource=proxy)"},
		{"bob", "/stats/summary", 501, "stats are not served by this node"},
		{"alice", "/stats/summary", 403, "Forbidden (user=alice, verb=get, resource=nodes, subresource=stats)"},
		// The API server's user has no rights but those RBAC gives it.
		{APIServerUser, "/healthz", 403, "Forbidden (user=skiff-apiserver-kubelet-client, verb=get, resource=nodes, subresource=proxy)"},
	}
	for _, tt := range tests {
		if code, body := get(t, clients[tt.user], base+tt.path); code != tt.wantCode || body != tt.wantBody {
			t.Errorf("%s %s: got %d %q, want %d %q", tt.user, tt.path, code, body, tt.wantCode, tt.wantBody)
		}
	}
	want := authorizationv1.SubjectAccessReviewSpec{User: "alice", Groups: []string{"team"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Version: "v1", Resource: "nodes", Subresource: "proxy", Name: "n1"}}
	if len(f.sent) == 0 || !reflect.DeepEqual(f.sent[0], want) {
		t.Errorf("first review: got %+v, want %+v", f.sent, want)
	}
	// A failed review (of a question not remembered) is a 500, not a 403.
	f.fail = errors.New("connection refused")
	if code, body := get(t, clients["bob"], base+"/metrics"); code != http.StatusInternalServerError ||
		body != "Authorization error (user=bob, verb=get, resource=nodes, subresource=metrics)" {
		t.Errorf("failed review: got %d %q", code, body)
	}
}
