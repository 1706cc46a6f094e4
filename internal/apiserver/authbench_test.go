package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/auth"
	"github.com/skiffkube/skiff/internal/storage/etcd"
)

// The authentication + authorization + admission overhead of a request:
// the full handler chain against the router alone, on a server over
// embedded etcd with RBAC, the Node authorizer and the default admission
// plugins. The caller is a non-admin user whose Role grants the request,
// so the RBAC decision comes from the cached index.

// clientCertState is the TLS state of a request with a verified client
// certificate for user in groups (the X509 authenticator reads only that).
func clientCertState(user string, groups ...string) *tls.ConnectionState {
	leaf := &x509.Certificate{Subject: pkix.Name{CommonName: user, Organization: groups}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf}}}
}

// benchServer starts a server over embedded etcd with namespace "bench",
// pod "p" and configmap reads and writes granted to user "bench-user".
func benchServer(b *testing.B, admission []string) *Server {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: b.TempDir(), UnsafeNoFsync: true})
	if err != nil {
		b.Fatal(err)
	}
	client := e.InProcessClient()
	s, err := New(Config{Store: etcd.New(client), Authenticator: auth.Union{auth.X509{}}, RBAC: true, NodeAuthorization: true,
		Admission: admission})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
		client.Close()
		e.Close()
	})
	<-s.Ready()
	admin := clientCertState("bench-admin", "system:masters")
	for _, obj := range []struct{ path, body string }{
		{"/api/v1/namespaces", `{"metadata":{"name":"bench"}}`},
		{"/api/v1/namespaces/bench/pods", `{"metadata":{"name":"p"},"spec":{"automountServiceAccountToken":false,"containers":[{"name":"c","image":"busybox"}]}}`},
		{"/apis/rbac.authorization.k8s.io/v1/namespaces/bench/roles", `{"metadata":{"name":"r"},"rules":[{"apiGroups":[""],"resources":["pods","configmaps"],"verbs":["get","create"]}]}`},
		{"/apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings", `{"metadata":{"name":"rb"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"},"subjects":[{"kind":"User","name":"bench-user"}]}`},
	} {
		code := serve(s, http.MethodPost, obj.path, obj.body, admin)
		if code != http.StatusCreated {
			b.Fatalf("POST %s: %d", obj.path, code)
		}
	}
	// The binding reaches the RBAC index through its watch.
	user := clientCertState("bench-user")
	deadline := time.Now().Add(10 * time.Second)
	for serve(s, http.MethodGet, "/api/v1/namespaces/bench/pods/p", "", user) != http.StatusOK {
		if time.Now().After(deadline) {
			b.Fatal("the RoleBinding never took effect")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// serve runs one request through s with the given client certificate.
func serve(h http.Handler, method, path, body string, cert *tls.ConnectionState) int {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.TLS = cert
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// measure runs req b.N times through h and reports the median and 99th
// percentile latency.
func measure(b *testing.B, h http.Handler, method, path, body string, cert *tls.ConnectionState, want int, withUser bool) {
	var times []time.Duration
	user := &auth.User{Name: "bench-user", Groups: []string{auth.GroupAuthenticated}}
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.TLS = cert
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		if withUser {
			r = r.WithContext(auth.WithUser(r.Context(), user))
		}
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, r)
		times = append(times, time.Since(start))
		if w.Code != want {
			b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body)
		}
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(times[len(times)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkAuthOverhead(b *testing.B) {
	s := benchServer(b, DefaultAdmissionPlugins())
	bare := benchServer(b, nil) // the same server without admission plugins
	user := clientCertState("bench-user")
	router, bareRouter := http.HandlerFunc(s.route), http.HandlerFunc(bare.route)
	noop := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	// The security filters alone, around a handler that does nothing.
	filters := s.withAuthentication(s.withLimits(s.withAuthorization(noop)))
	const pod = "/api/v1/namespaces/bench/pods/p"
	const create = "/api/v1/namespaces/bench/configmaps?dryRun=All"
	const cm = `{"metadata":{"name":"c"},"data":{"k":"v"}}`
	b.Run("filters/get-pod", func(b *testing.B) { measure(b, filters, http.MethodGet, pod, "", user, http.StatusOK, false) })
	b.Run("get-pod/chain", func(b *testing.B) { measure(b, s, http.MethodGet, pod, "", user, http.StatusOK, false) })
	b.Run("get-pod/handler", func(b *testing.B) { measure(b, router, http.MethodGet, pod, "", nil, http.StatusOK, true) })
	b.Run("create-dryrun/chain", func(b *testing.B) { measure(b, s, http.MethodPost, create, cm, user, http.StatusCreated, false) })
	b.Run("create-dryrun/handler-no-admission", func(b *testing.B) {
		measure(b, bareRouter, http.MethodPost, create, cm, nil, http.StatusCreated, true)
	})
	b.Run("authorize", func(b *testing.B) {
		attrs := auth.Attributes{User: &auth.User{Name: "bench-user", Groups: []string{auth.GroupAuthenticated}}, Verb: "get",
			Namespace: "bench", APIVersion: "v1", Resource: "pods", Name: "p", ResourceRequest: true}
		b.ReportAllocs()
		for b.Loop() {
			if d, _, _ := s.authorizer.Authorize(context.Background(), attrs); d != auth.DecisionAllow {
				b.Fatalf("decision %v", d)
			}
		}
	})
}
