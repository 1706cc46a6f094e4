package apiserver

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/apiserver/audit"
	"github.com/skiffkube/skiff/internal/auth"
)

// syncBuffer collects the audit log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// auditChain is withAudit → withAuditAuthorized → h, with a fixed user,
// its events written to the returned function's result.
func auditChain(t testing.TB, policy *audit.Policy, h http.Handler) (http.Handler, func() []audit.Event) {
	var out syncBuffer
	a, err := audit.New(audit.Options{Policy: policy, Path: "-", Stdout: &out,
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); a.Run(ctx) }()
	s := &Server{cfg: Config{Audit: a}, metrics: newMetrics()}
	inner := s.withAudit(s.withAuditAuthorized(h))
	user := &auth.User{Name: "alice", Groups: []string{"devs", auth.GroupAuthenticated}}
	chain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), user)))
	})
	stop := sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return chain, func() []audit.Event {
		stop()
		var events []audit.Event
		for _, l := range strings.Split(strings.TrimSpace(out.b.String()), "\n") {
			if l == "" {
				continue
			}
			var e audit.Event
			if err := json.Unmarshal([]byte(l), &e); err != nil {
				t.Fatalf("bad line %q: %v", l, err)
			}
			events = append(events, e)
		}
		return events
	}
}

func TestAuditMiddleware(t *testing.T) {
	policy, err := audit.ParsePolicy([]byte(`apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: None
  nonResourceURLs: [/healthz]
- level: RequestResponse
  resources: [{group: "", resources: [configmaps]}]
- level: Metadata
`))
	if err != nil {
		t.Fatal(err)
	}
	h, events := auditChain(t, policy, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		audit.AddAnnotation(r.Context(), "example.com/admission", "seen")
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write(body)
	}))
	do := func(method, target, body string) {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "kubectl/test")
		req.RemoteAddr = "10.1.2.3:5555"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			t.Fatalf("%s %s: %d", method, target, rec.Code)
		}
	}
	do("GET", "/healthz", "")
	do("POST", "/api/v1/namespaces/default/configmaps", `{"kind":"ConfigMap","data":{"a":"b"}}`)
	do("POST", "/api/v1/namespaces/default/secrets", `{"kind":"Secret"}`)
	got := events()
	if len(got) != 4 {
		t.Fatalf("%d events, want 4 (2 stages x 2 audited requests): %+v", len(got), got)
	}
	rr, done := got[0], got[1]
	if rr.Stage != audit.StageRequestReceived || done.Stage != audit.StageResponseComplete || rr.AuditID != done.AuditID {
		t.Fatalf("stages %s %s ids %s %s", rr.Stage, done.Stage, rr.AuditID, done.AuditID)
	}
	if done.Level != audit.LevelRequestResponse || done.Verb != "create" || done.User.Username != "alice" ||
		done.ObjectRef == nil || done.ObjectRef.Resource != "configmaps" || done.ObjectRef.Namespace != "default" ||
		done.ResponseStatus == nil || done.ResponseStatus.Code != 201 || done.UserAgent != "kubectl/test" ||
		len(done.SourceIPs) != 1 || done.SourceIPs[0] != "10.1.2.3" {
		t.Fatalf("configmap event %+v", done)
	}
	if string(done.RequestObject) != `{"kind":"ConfigMap","data":{"a":"b"}}` || string(done.ResponseObject) != string(done.RequestObject) {
		t.Fatalf("bodies %s / %s", done.RequestObject, done.ResponseObject)
	}
	if done.Annotations["authorization.k8s.io/decision"] != "allow" || done.Annotations["example.com/admission"] != "seen" {
		t.Fatalf("annotations %v", done.Annotations)
	}
	if meta := got[3]; meta.Level != audit.LevelMetadata || meta.RequestObject != nil || meta.ResponseObject != nil || meta.ObjectRef.Resource != "secrets" {
		t.Fatalf("metadata event %+v", meta)
	}
}

func TestAuditMiddlewareForbiddenAndWatch(t *testing.T) {
	started := make(chan struct{})
	h, events := auditChain(t, audit.DefaultPolicy(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") == "true" {
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			close(started)
			return
		}
		http.Error(w, "no", http.StatusForbidden)
	}))
	// A 403 from before the authorization marker: the authorizer denied.
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) })
	deny.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/namespaces/default/secrets/x", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/pods?watch=true", nil))
	<-started
	got := events()
	if len(got) != 3 {
		t.Fatalf("%d events, want 3: %+v", len(got), got)
	}
	if got[0].ResponseStatus.Code != 403 || got[0].Verb != "get" || got[0].ObjectRef.Name != "x" {
		t.Fatalf("forbidden event %+v", got[0])
	}
	if got[1].Stage != audit.StageResponseStarted || got[2].Stage != audit.StageResponseComplete || got[1].Verb != "watch" {
		t.Fatalf("watch events %+v %+v", got[1], got[2])
	}
}

// BenchmarkAuditMiddleware measures what the default policy's Metadata
// event costs a request (the handler does nothing).
func BenchmarkAuditMiddleware(b *testing.B) {
	for _, tc := range []struct {
		name  string
		audit bool
	}{{"off", false}, {"metadata", true}} {
		b.Run(tc.name, func(b *testing.B) {
			noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
			var h http.Handler = noop
			if tc.audit {
				a, err := audit.New(audit.Options{Path: "-", Stdout: io.Discard, BufferSize: 1 << 16})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan struct{})
				go func() { defer close(done); a.Run(ctx) }()
				defer func() { cancel(); <-done }()
				s := &Server{cfg: Config{Audit: a}, metrics: newMetrics()}
				h = s.withAudit(s.withAuditAuthorized(noop))
			}
			user := &auth.User{Name: "alice", Groups: []string{"devs"}}
			req := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods/web", nil)
			req = req.WithContext(auth.WithUser(req.Context(), user))
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}
