package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// decodeStatus parses a metav1.Status response body.
func decodeStatus(t *testing.T, r rawResponse) metav1.Status {
	t.Helper()
	var st metav1.Status
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("response is not a Status (%d): %v\n%s", r.code, err, r.body)
	}
	if st.Kind != "Status" || st.APIVersion != "v1" {
		t.Errorf("status kind/apiVersion = %s/%s", st.Kind, st.APIVersion)
	}
	if int(st.Code) != r.code {
		t.Errorf("status code %d differs from HTTP code %d", st.Code, r.code)
	}
	return st
}

func TestStatusErrors(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "errs")
	cms := fixture.cs.CoreV1().ConfigMaps(ns)

	_, err := cms.Get(ctx, "missing", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("get missing: %v, want NotFound", err)
	} else if se := err.(apierrors.APIStatus).Status(); se.Code != 404 || se.Details == nil || se.Details.Name != "missing" || se.Details.Kind != "configmaps" {
		t.Errorf("NotFound status %+v", se)
	}

	c, err := cms.Create(ctx, cm(ns, "dup", map[string]string{"a": "1"}, nil), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = cms.Create(ctx, cm(ns, "dup", nil, nil), metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) || err.(apierrors.APIStatus).Status().Code != 409 {
		t.Errorf("duplicate create: %v, want 409 AlreadyExists", err)
	}

	stale := c.DeepCopy()
	c.Data["a"] = "2"
	if _, err := cms.Update(ctx, c, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale.Data["a"] = "3"
	_, err = cms.Update(ctx, stale, metav1.UpdateOptions{})
	if !apierrors.IsConflict(err) || err.(apierrors.APIStatus).Status().Code != 409 {
		t.Errorf("stale update: %v, want 409 Conflict", err)
	}

	bad := pod(ns, "Bad_Name")
	bad.Spec.Containers[0].Image = ""
	_, err = fixture.cs.CoreV1().Pods(ns).Create(ctx, bad, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("invalid pod: %v, want 422 Invalid", err)
	}
	st := err.(apierrors.APIStatus).Status()
	fields := map[string]bool{}
	for _, c := range st.Details.Causes {
		fields[c.Field] = true
	}
	if st.Code != 422 || st.Details.Kind != "Pod" || !fields["metadata.name"] || !fields["spec.containers[0].image"] {
		t.Errorf("Invalid status: code=%d kind=%s causes=%v", st.Code, st.Details.Kind, st.Details.Causes)
	}

	// Immutable field.
	sec, err := fixture.cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Immutable: ptrTo(true), StringData: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sec.Data["k"] = []byte("w")
	if _, err := fixture.cs.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("update of an immutable secret: %v, want Invalid", err)
	}

	base := "/api/v1/namespaces/" + ns + "/configmaps"
	for _, tc := range []struct {
		name        string
		method      string
		path        string
		contentType string
		body        []byte
		code        int
		reason      metav1.StatusReason
	}{
		{"malformed JSON", "POST", base, "application/json", []byte(`{"metadata": {"name": "x"`), 400, metav1.StatusReasonBadRequest},
		{"malformed YAML", "POST", base, "application/yaml", []byte("metadata: [name: {"), 400, metav1.StatusReasonBadRequest},
		{"wrong kind", "POST", base, "application/json", []byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}`), 400, metav1.StatusReasonBadRequest},
		{"unknown content type", "POST", base, "text/plain", []byte(`name: x`), 415, metav1.StatusReasonUnsupportedMediaType},
		{"unknown patch type", "PATCH", base + "/dup", "application/x-custom", []byte(`{}`), 415, metav1.StatusReasonUnsupportedMediaType},
		{"huge body", "POST", base, "application/json", hugeConfigMap(4 << 20), 413, metav1.StatusReasonRequestEntityTooLarge},
		{"method not allowed", "POST", base + "/dup", "application/json", []byte(`{"metadata":{"name":"dup"}}`), 405, metav1.StatusReasonMethodNotAllowed},
		{"strict unknown field", "POST", base + "?fieldValidation=Strict", "application/json", []byte(`{"metadata":{"name":"u"},"bogus":1}`), 400, metav1.StatusReasonBadRequest},
		{"namespace mismatch", "POST", base, "application/json", []byte(`{"metadata":{"name":"m","namespace":"other"}}`), 400, metav1.StatusReasonBadRequest},
		{"missing namespace", "POST", "/api/v1/namespaces/nope/configmaps", "application/json", []byte(`{"metadata":{"name":"m"}}`), 404, metav1.StatusReasonNotFound},
		{"unknown resource", "GET", "/api/v1/namespaces/" + ns + "/widgets", "", nil, 404, metav1.StatusReasonNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := raw(t, tc.method, tc.path, tc.contentType, bytes.NewReader(tc.body))
			if r.code != tc.code {
				t.Fatalf("code %d, want %d: %s", r.code, tc.code, r.body)
			}
			st := decodeStatus(t, r)
			if st.Reason != tc.reason || st.Status != metav1.StatusFailure || st.Message == "" {
				t.Errorf("status reason=%q status=%q message=%q, want reason %q", st.Reason, st.Status, st.Message, tc.reason)
			}
		})
	}
	// Nothing half-written by the failed requests.
	list, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 || list.Items[0].Name != "dup" || list.Items[1].Name != rootCAConfigMap {
		t.Errorf("configmaps after failed requests: %d items", len(list.Items))
	}

	// Unknown fields under Warn come back as a Warning header.
	r := raw(t, "POST", base, "application/json", strings.NewReader(`{"metadata":{"name":"w"},"bogus":1}`))
	if r.code != http.StatusCreated || !strings.Contains(r.header.Get("Warning"), "bogus") {
		t.Errorf("warn unknown field: %d warning=%q", r.code, r.header.Get("Warning"))
	}
}

func hugeConfigMap(size int) []byte {
	return []byte(`{"metadata":{"name":"huge"},"data":{"k":"` + strings.Repeat("x", size) + `"}}`)
}

func ptrTo[T any](v T) *T { return &v }
