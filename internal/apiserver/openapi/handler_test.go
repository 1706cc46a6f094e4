package openapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
)

func get(t *testing.T, h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestServeV3Discovery(t *testing.T) {
	h, err := New(registry.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	rec := get(t, h, http.MethodGet, "/openapi/v3", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	var disco v3DiscoveryDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &disco); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1", "apis/autoscaling/v1", "apis/autoscaling/v2"} {
		e, ok := disco.Paths[key]
		if !ok {
			t.Errorf("discovery lacks %s", key)
			continue
		}
		want := "/openapi/v3/" + key + "?hash=" + h.v3[key].hash
		if e.ServerRelativeURL != want {
			t.Errorf("%s URL = %q, want %q", key, e.ServerRelativeURL, want)
		}
	}
}

func TestServeCaching(t *testing.T) {
	h, err := New(registry.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	h.now = func() time.Time { return time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC) }
	core := h.v3["api/v1"]
	tests := []struct {
		name         string
		method, url  string
		header       map[string]string
		code         int
		contentType  string
		cacheControl string
	}{
		{"v2 json", "GET", "/openapi/v2", nil, 200, "application/json", ""},
		{"v2 protobuf", "GET", "/openapi/v2", map[string]string{"Accept": MediaTypeV2Protobuf}, 200, MediaTypeV2Protobuf, ""},
		{"v2 deprecated protobuf name", "GET", "/openapi/v2", map[string]string{"Accept": mediaTypeV2ProtobufDeprecated}, 200, MediaTypeV2Protobuf, ""},
		{"v2 json preferred by q", "GET", "/openapi/v2", map[string]string{"Accept": MediaTypeV2Protobuf + ";q=0.5, application/json"}, 200, "application/json", ""},
		{"v2 not acceptable", "GET", "/openapi/v2", map[string]string{"Accept": "text/html"}, 406, "", ""},
		{"v2 etag match", "GET", "/openapi/v2", map[string]string{"If-None-Match": `"` + h.v2.hash + `"`}, 304, "", ""},
		{"v2 protobuf etag differs", "GET", "/openapi/v2", map[string]string{"Accept": MediaTypeV2Protobuf, "If-None-Match": `"` + h.v2.hash + `"`}, 200, MediaTypeV2Protobuf, ""},
		{"v3 with hash", "GET", "/openapi/v3/api/v1?hash=" + core.hash, nil, 200, "application/json", "public, immutable"},
		{"v3 stale hash", "GET", "/openapi/v3/api/v1?hash=0123", nil, 301, "", ""},
		{"v3 without hash", "GET", "/openapi/v3/api/v1", nil, 200, "application/json", ""},
		{"v3 etag match", "GET", "/openapi/v3/apis/apps/v1", map[string]string{"If-None-Match": `W/"x", "` + h.v3["apis/apps/v1"].hash + `"`}, 304, "", ""},
		{"v3 protobuf", "GET", "/openapi/v3/apis/apps/v1", map[string]string{"Accept": mediaTypeV3ProtobufDeprecated}, 200, MediaTypeV3Protobuf, ""},
		{"v3 unknown group", "GET", "/openapi/v3/apis/nope/v1", nil, 404, "", ""},
		{"head", "HEAD", "/openapi/v2", nil, 200, "application/json", ""},
		{"post", "POST", "/openapi/v2", nil, 405, "", ""},
		{"unknown path", "GET", "/openapi/v4", nil, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(t, h, tt.method, tt.url, tt.header)
			if rec.Code != tt.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.code, rec.Body.String())
			}
			if tt.contentType != "" && rec.Header().Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tt.contentType)
			}
			if rec.Header().Get("Cache-Control") != tt.cacheControl {
				t.Errorf("Cache-Control %q, want %q", rec.Header().Get("Cache-Control"), tt.cacheControl)
			}
			if want := "Thu, 02 Jan 2031 03:04:05 GMT"; tt.cacheControl != "" && rec.Header().Get("Expires") != want {
				t.Errorf("Expires %q, want %q", rec.Header().Get("Expires"), want)
			}
			if tt.code == 301 && rec.Header().Get("Location") != "/openapi/v3/api/v1?hash="+core.hash {
				t.Errorf("redirected to %q", rec.Header().Get("Location"))
			}
			if tt.code == 200 && tt.method == "GET" && rec.Body.Len() == 0 {
				t.Errorf("empty body")
			}
			if tt.method == "HEAD" && rec.Body.Len() != 0 {
				t.Errorf("HEAD wrote a body")
			}
		})
	}
}

func TestV3Protobuf(t *testing.T) {
	h, err := New(registry.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	rec := get(t, h, "GET", "/openapi/v3/apis/apps/v1", map[string]string{"Accept": MediaTypeV3Protobuf})
	var doc openapi_v3.Document
	if err := proto.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("decode: %v", err)
	}
	found := false
	for _, s := range doc.GetComponents().GetSchemas().GetAdditionalProperties() {
		found = found || s.GetName() == "io.k8s.api.apps.v1.Deployment"
	}
	if !found {
		t.Errorf("protobuf document lacks Deployment")
	}
}

func TestNegotiate(t *testing.T) {
	protos := []string{MediaTypeV2Protobuf, mediaTypeV2ProtobufDeprecated}
	tests := []struct {
		accept string
		want   string
		ok     bool
	}{
		{"", "application/json", true},
		{"*/*", "application/json", true},
		{"application/json, */*", "application/json", true},
		{MediaTypeV2Protobuf, MediaTypeV2Protobuf, true},
		{"application/json;q=0.9, " + MediaTypeV2Protobuf, MediaTypeV2Protobuf, true},
		{"text/plain", "", false},
		{"application/json;q=0", "", false},
	}
	for _, tt := range tests {
		got, ok := negotiate(tt.accept, protos)
		if got != tt.want || ok != tt.ok {
			t.Errorf("negotiate(%q) = %q, %v; want %q, %v", tt.accept, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPathsAndOperationIDs(t *testing.T) {
	h, err := New(registry.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(h.v2.json, &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ path, method, id string }{
		{"/api/v1/namespaces/{namespace}/pods", "get", "listCoreV1NamespacedPod"},
		{"/api/v1/namespaces/{namespace}/pods", "post", "createCoreV1NamespacedPod"},
		{"/api/v1/namespaces/{namespace}/pods", "delete", "deleteCoreV1CollectionNamespacedPod"},
		{"/api/v1/pods", "get", "listCoreV1PodForAllNamespaces"},
		{"/api/v1/namespaces/{namespace}/pods/{name}", "patch", "patchCoreV1NamespacedPod"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/status", "put", "replaceCoreV1NamespacedPodStatus"},
		{"/api/v1/namespaces/{namespace}/pods/{name}/binding", "post", "createCoreV1NamespacedPodBinding"},
		{"/api/v1/nodes/{name}", "get", "readCoreV1Node"},
		{"/api/v1/namespaces/{name}/finalize", "put", "replaceCoreV1NamespaceFinalize"},
		{"/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "patch", "patchAppsV1NamespacedDeploymentScale"},
		{"/apis/rbac.authorization.k8s.io/v1/clusterroles", "delete", "deleteRbacAuthorizationV1CollectionClusterRole"},
		{"/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}", "delete", "deleteCoordinationV1NamespacedLease"},
		{"/apis/apps/v1/", "get", "getAppsV1APIResources"},
	}
	for _, tt := range tests {
		raw, ok := doc.Paths[tt.path][tt.method]
		if !ok {
			t.Errorf("%s %s missing", tt.method, tt.path)
			continue
		}
		var op struct {
			ID string `json:"operationId"`
		}
		if err := json.Unmarshal(raw, &op); err != nil {
			t.Fatal(err)
		}
		if op.ID != tt.id {
			t.Errorf("%s %s: operationId %q, want %q", tt.method, tt.path, op.ID, tt.id)
		}
	}
	if !strings.Contains(string(doc.Paths["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]), "application/strategic-merge-patch+json") {
		t.Errorf("pod patch does not accept strategic merge patches")
	}
}

// BenchmarkNew measures building every document (run with -bench New).
func BenchmarkNew(b *testing.B) {
	res := registry.Builtin()
	for i := 0; i < b.N; i++ {
		if _, err := New(res); err != nil {
			b.Fatal(err)
		}
	}
}
