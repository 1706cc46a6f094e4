package apiserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/skiffkube/skiff/internal/apiserver/audit"
	"github.com/skiffkube/skiff/internal/auth"
)

// Audit annotation keys set by the server itself.
const (
	auditDecisionKey = "authorization.k8s.io/decision"
	auditIDHeader    = "Audit-Id"
)

// withAudit records each request the audit policy selects: RequestReceived
// before the handler runs, ResponseStarted when a long-running response
// (watch, streams) begins, ResponseComplete (or Panic) at the end. It sits
// after authentication (events name the user) and before authorization
// (denied requests are recorded too).
func (s *Server) withAudit(next http.Handler) http.Handler {
	a := s.cfg.Audit
	if a == nil {
		return next
	}
	for _, c := range a.Backend.Collectors() {
		s.metrics.registry.MustRegister(c)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := parseRequestInfo(r)
		u, _ := auth.UserFrom(r.Context())
		d := a.Policy.Evaluate(auditAttributes(u, info))
		if d.Level == audit.LevelNone {
			next.ServeHTTP(w, r)
			return
		}
		ctx, ann := audit.WithAnnotations(r.Context())
		ev := newAuditEvent(a, d.Level, r, u, info)
		w.Header().Set(auditIDHeader, ev.AuditID)
		emit := func(stage audit.Stage, code int) {
			if d.Omits(stage) {
				return
			}
			e := *ev
			e.Stage, e.StageTimestamp = stage, audit.MicroTime(a.Now())
			if code != 0 {
				e.ResponseStatus = &audit.ResponseStatus{Code: code, Status: statusWord(code)}
			}
			e.Annotations = ann.Snapshot()
			a.Backend.Process(&e)
		}
		emit(audit.StageRequestReceived, 0)
		var reqBody *boundedBuffer
		if d.Level.AtLeast(audit.LevelRequest) && r.Body != nil {
			reqBody = &boundedBuffer{max: a.MaxBodyBytes}
			r.Body = teeBody{Reader: io.TeeReader(r.Body, reqBody), Closer: r.Body}
		}
		rec := &auditRecorder{ResponseWriter: w}
		if auditLongRunning(info) {
			rec.onStart = func(code int) { emit(audit.StageResponseStarted, code) }
		} else if d.Level.AtLeast(audit.LevelRequestResponse) {
			rec.body = &boundedBuffer{max: a.MaxBodyBytes}
		}
		defer func() {
			if p := recover(); p != nil {
				emit(audit.StagePanic, http.StatusInternalServerError)
				panic(p)
			}
		}()
		next.ServeHTTP(rec, r.WithContext(ctx))
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		if code == http.StatusForbidden {
			ann.Add(auditDecisionKey, "forbid")
		}
		ev.RequestObject = s.auditObject(reqBody, r.Header.Get("Content-Type"))
		ev.ResponseObject = s.auditObject(rec.body, w.Header().Get("Content-Type"))
		emit(audit.StageResponseComplete, code)
	})
}

// withAuditAuthorized, placed inside authorization, notes that the
// authorizer allowed the request.
func (s *Server) withAuditAuthorized(next http.Handler) http.Handler {
	if s.cfg.Audit == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		audit.AddAnnotation(r.Context(), auditDecisionKey, "allow")
		next.ServeHTTP(w, r)
	})
}

func auditAttributes(u *auth.User, info requestInfo) audit.Attributes {
	a := audit.Attributes{Verb: info.Verb, ResourceRequest: info.IsResource, APIGroup: info.APIGroup, Resource: info.Resource,
		Subresource: info.Subresource, Namespace: info.Namespace, Name: info.Name, Path: info.Path}
	if u != nil {
		a.User, a.Groups = u.Name, u.Groups
	}
	return a
}

// newAuditEvent fills what every stage's event shares.
func newAuditEvent(a *audit.Auditor, level audit.Level, r *http.Request, u *auth.User, info requestInfo) *audit.Event {
	id := r.Header.Get(auditIDHeader)
	if id == "" {
		id = string(uuid.NewUUID())
	}
	now := audit.MicroTime(a.Now())
	ev := &audit.Event{Kind: "Event", APIVersion: audit.PolicyAPIVersion, Level: level, AuditID: id, RequestURI: r.URL.RequestURI(),
		Verb: info.Verb, SourceIPs: sourceIPs(r), UserAgent: r.UserAgent(), RequestReceivedTimestamp: now, StageTimestamp: now}
	if u != nil {
		ev.User = audit.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups, Extra: u.Extra}
	}
	if info.IsResource {
		ev.ObjectRef = &audit.ObjectReference{Resource: info.Resource, Namespace: info.Namespace, Name: info.Name,
			APIGroup: info.APIGroup, APIVersion: info.APIVersion, Subresource: info.Subresource}
	}
	return ev
}

// sourceIPs are the X-Forwarded-For chain, X-Real-Ip, then the peer.
func sourceIPs(r *http.Request) []string {
	var ips []string
	for _, f := range strings.Split(r.Header.Get("X-Forwarded-For"), ",") {
		if ip := strings.TrimSpace(f); net.ParseIP(ip) != nil {
			ips = append(ips, ip)
		}
	}
	if ip := strings.TrimSpace(r.Header.Get("X-Real-Ip")); net.ParseIP(ip) != nil {
		ips = append(ips, ip)
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && (len(ips) == 0 || ips[len(ips)-1] != host) {
		ips = append(ips, host)
	}
	return ips
}

func statusWord(code int) string {
	if code >= 200 && code < 400 {
		return "Success"
	}
	return "Failure"
}

// auditLongRunning: watches and streaming subresources answer over time.
func auditLongRunning(info requestInfo) bool {
	if info.Verb == "watch" {
		return true
	}
	switch info.Subresource {
	case "exec", "attach", "portforward", "proxy", "log":
		return true
	}
	return false
}

// auditObject is a captured body as JSON: JSON bodies as they are,
// protobuf ones decoded and re-encoded; nil when the body was too big,
// empty or of another type.
func (s *Server) auditObject(b *boundedBuffer, contentType string) json.RawMessage {
	if b == nil || b.truncated || b.buf.Len() == 0 {
		return nil
	}
	if !strings.HasPrefix(contentType, mediaProtobuf) {
		return b.json()
	}
	if s.codecs == nil {
		return nil
	}
	info, ok := s.codecs.serializerFor(mediaProtobuf, false)
	if !ok {
		return nil
	}
	obj, _, err := info.Serializer.Decode(b.buf.Bytes(), nil, nil)
	if err != nil {
		return nil
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil
	}
	return out
}

// teeBody is a request body that copies what the handler reads.
type teeBody struct {
	io.Reader
	io.Closer
}

// boundedBuffer keeps the first max bytes written and remembers whether
// more came.
type boundedBuffer struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.truncated = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

// json is the captured body when it is complete, valid JSON.
func (b *boundedBuffer) json() json.RawMessage {
	if b == nil || b.truncated || b.buf.Len() == 0 || !json.Valid(b.buf.Bytes()) {
		return nil
	}
	return bytes.TrimSpace(b.buf.Bytes())
}

// auditRecorder notes the status code, tells onStart when the response
// begins and copies the body into body when set.
type auditRecorder struct {
	http.ResponseWriter
	code    int
	onStart func(code int)
	body    *boundedBuffer
}

func (r *auditRecorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
		if r.onStart != nil && code >= 200 {
			r.onStart(code)
		}
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *auditRecorder) Write(p []byte) (int, error) {
	if r.code == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if r.body != nil {
		r.body.Write(p)
	}
	return r.ResponseWriter.Write(p)
}

func (r *auditRecorder) Flush() {
	if r.code == 0 {
		r.WriteHeader(http.StatusOK)
	}
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *auditRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
