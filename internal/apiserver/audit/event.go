package audit

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// Event is one line of the audit log (the audit.k8s.io/v1 Event shape).
type Event struct {
	Kind                     string            `json:"kind"`
	APIVersion               string            `json:"apiVersion"`
	Level                    Level             `json:"level"`
	AuditID                  string            `json:"auditID"`
	Stage                    Stage             `json:"stage"`
	RequestURI               string            `json:"requestURI"`
	Verb                     string            `json:"verb"`
	User                     UserInfo          `json:"user"`
	SourceIPs                []string          `json:"sourceIPs,omitempty"`
	UserAgent                string            `json:"userAgent,omitempty"`
	ObjectRef                *ObjectReference  `json:"objectRef,omitempty"`
	ResponseStatus           *ResponseStatus   `json:"responseStatus,omitempty"`
	RequestObject            json.RawMessage   `json:"requestObject,omitempty"`
	ResponseObject           json.RawMessage   `json:"responseObject,omitempty"`
	RequestReceivedTimestamp MicroTime         `json:"requestReceivedTimestamp"`
	StageTimestamp           MicroTime         `json:"stageTimestamp"`
	Annotations              map[string]string `json:"annotations,omitempty"`
}

// UserInfo is who made the request.
type UserInfo struct {
	Username string              `json:"username,omitempty"`
	UID      string              `json:"uid,omitempty"`
	Groups   []string            `json:"groups,omitempty"`
	Extra    map[string][]string `json:"extra,omitempty"`
}

// ObjectReference names the object a resource request is about.
type ObjectReference struct {
	Resource    string `json:"resource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	APIGroup    string `json:"apiGroup,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Subresource string `json:"subresource,omitempty"`
}

// ResponseStatus is the answer's status (a subset of metav1.Status).
type ResponseStatus struct {
	Metadata struct{} `json:"metadata"`
	Status   string   `json:"status,omitempty"`
	Code     int      `json:"code"`
}

// MicroTime encodes a time as RFC 3339 with microseconds, as upstream.
type MicroTime time.Time

// MarshalJSON writes the time in UTC with six fractional digits.
func (t MicroTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 32)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	return append(b, '"'), nil
}

// UnmarshalJSON reads an RFC 3339 time.
func (t *MicroTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	*t = MicroTime(v)
	return err
}

// Annotations collect key/value notes about a request from the parts of
// the server that handle it (the authorizer's decision, admission plugins).
type Annotations struct {
	mu sync.Mutex
	m  map[string]string
}

type annotationsKey struct{}

// WithAnnotations returns ctx carrying a fresh holder, and the holder.
func WithAnnotations(ctx context.Context) (context.Context, *Annotations) {
	a := &Annotations{}
	return context.WithValue(ctx, annotationsKey{}, a), a
}

// AddAnnotation notes key=value on the audit event of the request ctx
// belongs to; the first value of a key is kept. Without an audited request
// it does nothing.
func AddAnnotation(ctx context.Context, key, value string) {
	if a, ok := ctx.Value(annotationsKey{}).(*Annotations); ok {
		a.Add(key, value)
	}
}

// Add notes key=value unless key already has a value.
func (a *Annotations) Add(key, value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = map[string]string{}
	}
	if _, ok := a.m[key]; !ok {
		a.m[key] = value
	}
}

// Snapshot copies the annotations (nil when there are none).
func (a *Annotations) Snapshot() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.m) == 0 {
		return nil
	}
	out := make(map[string]string, len(a.m))
	for k, v := range a.m {
		out[k] = v
	}
	return out
}
