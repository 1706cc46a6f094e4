package webhook

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// testServer answers reviews by path: /allow, /deny, /warn, /label-<k>
// (adds the label k=yes), /hang (never answers) and /bad (a malformed
// review). It records the requests.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
	reqs []*admissionv1.AdmissionRequest
}

func newTestServer(t *testing.T) *testServer {
	ts := &testServer{}
	ts.Server = httptest.NewTLSServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *testServer) serve(w http.ResponseWriter, r *http.Request) {
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ts.mu.Lock()
	ts.seen = append(ts.seen, r.URL.Path)
	ts.reqs = append(ts.reqs, review.Request)
	ts.mu.Unlock()
	resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	switch p := r.URL.Path; {
	case p == "/deny":
		resp.Allowed = false
		resp.Result = &metav1.Status{Message: "pods are not welcome", Code: http.StatusForbidden}
	case p == "/warn":
		resp.Warnings = []string{"careful"}
		resp.AuditAnnotations = map[string]string{"k": "v"}
	case strings.HasPrefix(p, "/label-"):
		key := strings.TrimPrefix(p, "/label-")
		var obj struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		_ = json.Unmarshal(review.Request.Object.Raw, &obj)
		if obj.Metadata.Labels[key] != "yes" {
			op := `[{"op":"add","path":"/metadata/labels","value":{}},`
			if obj.Metadata.Labels != nil {
				op = "["
			}
			resp.Patch = []byte(op + `{"op":"add","path":"/metadata/labels/` + key + `","value":"yes"}]`)
			resp.PatchType = ptr.To(admissionv1.PatchTypeJSONPatch)
		}
	case p == "/hang":
		<-r.Context().Done()
		return
	case p == "/bad":
		_, _ = w.Write([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`))
		return
	}
	review.Response = resp
	review.Request = nil
	_ = json.NewEncoder(w).Encode(review)
}

func (ts *testServer) paths() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.seen...)
}

func (ts *testServer) caBundle() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})
}

type hookOpt func(*admissionregistrationv1.MutatingWebhook)

func mwh(ts *testServer, name, path string, opts ...hookOpt) admissionregistrationv1.MutatingWebhook {
	w := admissionregistrationv1.MutatingWebhook{Name: name,
		ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptr.To(ts.URL + path), CABundle: ts.caBundle()},
		Rules:        []admissionregistrationv1.RuleWithOperations{rule([]admissionregistrationv1.OperationType{"*"}, []string{""}, []string{"v1"}, []string{"pods"}, "*")},
		SideEffects:  ptr.To(admissionregistrationv1.SideEffectClassNone), AdmissionReviewVersions: []string{"v1"}, TimeoutSeconds: ptr.To[int32](1)}
	for _, o := range opts {
		o(&w)
	}
	return w
}

func asValidating(ws ...admissionregistrationv1.MutatingWebhook) []admissionregistrationv1.ValidatingWebhook {
	var out []admissionregistrationv1.ValidatingWebhook
	for _, w := range ws {
		out = append(out, admissionregistrationv1.ValidatingWebhook{Name: w.Name, ClientConfig: w.ClientConfig, Rules: w.Rules,
			FailurePolicy: w.FailurePolicy, SideEffects: w.SideEffects, AdmissionReviewVersions: w.AdmissionReviewVersions,
			TimeoutSeconds: w.TimeoutSeconds, MatchConditions: w.MatchConditions, ObjectSelector: w.ObjectSelector})
	}
	return out
}

func dispatcher(mutating []admissionregistrationv1.MutatingWebhook, validating []admissionregistrationv1.ValidatingWebhook) *Dispatcher {
	m := &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "m", UID: "u1"}, Webhooks: mutating}
	v := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: "v", UID: "u2"}, Webhooks: validating}
	return New(Config{
		Mutating: func(context.Context) ([]*admissionregistrationv1.MutatingWebhookConfiguration, error) {
			return []*admissionregistrationv1.MutatingWebhookConfiguration{m}, nil
		},
		Validating: func(context.Context) ([]*admissionregistrationv1.ValidatingWebhookConfiguration, error) {
			return []*admissionregistrationv1.ValidatingWebhookConfiguration{v}, nil
		},
		Compile: fakeCompile,
	})
}

// fakeCompile understands "true", "false" and "error".
func fakeCompile(expr string) (Condition, error) {
	switch expr {
	case "true", "false", "error":
		return fakeCond(expr), nil
	}
	return nil, errors.New("unknown expression")
}

type fakeCond string

func (c fakeCond) Eval(map[string]any) (bool, error) {
	if c == "error" {
		return false, errors.New("no such key")
	}
	return c == "true", nil
}

func withPolicy(p admissionregistrationv1.FailurePolicyType) hookOpt {
	return func(w *admissionregistrationv1.MutatingWebhook) { w.FailurePolicy = &p }
}

func withConditions(exprs ...string) hookOpt {
	return func(w *admissionregistrationv1.MutatingWebhook) {
		for i, e := range exprs {
			w.MatchConditions = append(w.MatchConditions, admissionregistrationv1.MatchCondition{Name: "c" + strconv.Itoa(i), Expression: e})
		}
	}
}

func TestMutateAppliesPatchesInOrder(t *testing.T) {
	ts := newTestServer(t)
	d := dispatcher([]admissionregistrationv1.MutatingWebhook{
		mwh(ts, "a.example.com", "/label-a"), mwh(ts, "b.example.com", "/label-b"),
	}, nil)
	a := podAttrs(admissionv1.Create, "")
	pod := labeledPod(nil)
	a.Object = pod
	if _, err := d.Mutate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if pod.Labels["a"] != "yes" || pod.Labels["b"] != "yes" {
		t.Errorf("labels = %v, want a and b", pod.Labels)
	}
	if got := ts.paths(); strings.Join(got, ",") != "/label-a,/label-b" {
		t.Errorf("calls = %v", got)
	}
}

func TestMutateReinvokesIfNeeded(t *testing.T) {
	ts := newTestServer(t)
	ifNeeded := func(w *admissionregistrationv1.MutatingWebhook) {
		w.ReinvocationPolicy = ptr.To(admissionregistrationv1.IfNeededReinvocationPolicy)
	}
	cases := []struct {
		name  string
		hooks []admissionregistrationv1.MutatingWebhook
		want  string
	}{
		{"a later change reinvokes", []admissionregistrationv1.MutatingWebhook{mwh(ts, "a.example.com", "/allow", ifNeeded), mwh(ts, "b.example.com", "/label-b")},
			"/allow,/label-b,/allow"},
		{"no later change", []admissionregistrationv1.MutatingWebhook{mwh(ts, "a.example.com", "/label-a", ifNeeded), mwh(ts, "b.example.com", "/allow")},
			"/label-a,/allow"},
		{"policy Never", []admissionregistrationv1.MutatingWebhook{mwh(ts, "a.example.com", "/allow"), mwh(ts, "b.example.com", "/label-b")},
			"/allow,/label-b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts.mu.Lock()
			ts.seen = nil
			ts.mu.Unlock()
			a := podAttrs(admissionv1.Create, "")
			a.Object = labeledPod(nil)
			if _, err := dispatcher(c.hooks, nil).Mutate(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ts.paths(), ","); got != c.want {
				t.Errorf("calls = %s, want %s", got, c.want)
			}
		})
	}
}

func TestDispatchOutcomes(t *testing.T) {
	ts := newTestServer(t)
	ignore, fail := withPolicy(admissionregistrationv1.Ignore), withPolicy(admissionregistrationv1.Fail)
	someEffects := func(w *admissionregistrationv1.MutatingWebhook) {
		w.SideEffects = ptr.To(admissionregistrationv1.SideEffectClassSome)
	}
	cases := []struct {
		name     string
		hook     admissionregistrationv1.MutatingWebhook
		dryRun   bool
		wantCode int32 // 0: allowed
		wantMsg  string
		called   bool
	}{
		{"allow", mwh(ts, "a.example.com", "/allow"), false, 0, "", true},
		{"deny", mwh(ts, "a.example.com", "/deny"), false, 403, `admission webhook "a.example.com" denied the request: pods are not welcome`, true},
		{"timeout with Fail", mwh(ts, "a.example.com", "/hang", fail), false, 500, `failed calling webhook "a.example.com"`, true},
		{"timeout with Ignore", mwh(ts, "a.example.com", "/hang", ignore), false, 0, "", true},
		{"malformed answer with Fail", mwh(ts, "a.example.com", "/bad", fail), false, 500, "webhook response was absent", true},
		{"malformed answer with Ignore", mwh(ts, "a.example.com", "/bad", ignore), false, 0, "", true},
		{"dry run with side effects", mwh(ts, "a.example.com", "/allow", someEffects), true, 400, `admission webhook "a.example.com" does not support dry run`, false},
		{"dry run without side effects", mwh(ts, "a.example.com", "/allow"), true, 0, "", true},
		{"false condition skips", mwh(ts, "a.example.com", "/deny", withConditions("true", "false")), false, 0, "", false},
		{"true conditions call", mwh(ts, "a.example.com", "/deny", withConditions("true", "true")), false, 403, "denied", true},
		{"condition error with Fail", mwh(ts, "a.example.com", "/allow", withConditions("error"), fail), false, 500, "matchConditions", false},
		{"condition error with Ignore", mwh(ts, "a.example.com", "/deny", withConditions("error"), ignore), false, 0, "", false},
		{"false beats error", mwh(ts, "a.example.com", "/deny", withConditions("error", "false"), fail), false, 0, "", false},
	}
	for _, c := range cases {
		for _, kind := range []string{"mutating", "validating"} {
			t.Run(c.name+"/"+kind, func(t *testing.T) {
				ts.mu.Lock()
				ts.seen = nil
				ts.mu.Unlock()
				a := podAttrs(admissionv1.Create, "")
				a.Object = labeledPod(nil)
				a.DryRun = c.dryRun
				var err error
				if kind == "mutating" {
					_, err = dispatcher([]admissionregistrationv1.MutatingWebhook{c.hook}, nil).Mutate(context.Background(), a)
				} else {
					_, err = dispatcher(nil, asValidating(c.hook)).Validate(context.Background(), a)
				}
				checkOutcome(t, err, c.wantCode, c.wantMsg)
				if called := len(ts.paths()) > 0; called != c.called {
					t.Errorf("called = %v, want %v", called, c.called)
				}
			})
		}
	}
}

func checkOutcome(t *testing.T, err error, code int32, msg string) {
	t.Helper()
	if code == 0 {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a status error", err)
	}
	if se.ErrStatus.Code != code || !strings.Contains(se.ErrStatus.Message, msg) {
		t.Errorf("status = %d %q, want %d containing %q", se.ErrStatus.Code, se.ErrStatus.Message, code, msg)
	}
}

func TestValidateRunsAllAndReportsFirstDenial(t *testing.T) {
	ts := newTestServer(t)
	d := dispatcher(nil, asValidating(mwh(ts, "a.example.com", "/warn"), mwh(ts, "b.example.com", "/deny"), mwh(ts, "c.example.com", "/allow")))
	a := podAttrs(admissionv1.Create, "")
	a.Object = labeledPod(nil)
	res, err := d.Validate(context.Background(), a)
	checkOutcome(t, err, 403, `admission webhook "b.example.com" denied the request`)
	if len(ts.paths()) != 3 {
		t.Errorf("calls = %v, want all three", ts.paths())
	}
	if len(res.Warnings) != 1 || res.Warnings[0] != "careful" || res.AuditAnnotations["a.example.com/k"] != "v" {
		t.Errorf("result = %+v", res)
	}
}

func TestRequestContent(t *testing.T) {
	ts := newTestServer(t)
	d := dispatcher(nil, asValidating(mwh(ts, "a.example.com", "/allow")))
	a := podAttrs(admissionv1.Update, "")
	a.Object, a.OldObject = labeledPod(map[string]string{"v": "2"}), labeledPod(map[string]string{"v": "1"})
	a.UserInfo.Username = "jane"
	if _, err := d.Validate(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	req := ts.reqs[0]
	if req.Operation != admissionv1.Update || req.Kind.Kind != "Pod" || req.Resource.Resource != "pods" || req.Namespace != "ns1" ||
		req.Name != "p" || req.UserInfo.Username != "jane" || req.UID == "" {
		t.Errorf("request = %+v", req)
	}
	if !strings.Contains(string(req.Object.Raw), `"kind":"Pod"`) || !strings.Contains(string(req.OldObject.Raw), `"v":"1"`) {
		t.Errorf("objects = %s / %s", req.Object.Raw, req.OldObject.Raw)
	}
}
