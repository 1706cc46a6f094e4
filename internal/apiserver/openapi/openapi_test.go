package openapi

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/util/proto"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
)

// newTestServer serves a Handler built from the built-in resources and
// returns a discovery client talking to it.
func newTestServer(t *testing.T) (*Handler, *discovery.DiscoveryClient) {
	t.Helper()
	start := time.Now()
	h, err := New(registry.Builtin())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Logf("built in %v: v2 %d bytes, %d v3 documents", time.Since(start), len(h.v2.json), len(h.v3))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	dc, err := discovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatalf("discovery client: %v", err)
	}
	return h, dc
}

// TestV2ProtobufThroughDiscovery fetches /openapi/v2 the way client-go
// does (protobuf) and reads it the way kubectl does.
func TestV2ProtobufThroughDiscovery(t *testing.T) {
	_, dc := newTestServer(t)
	doc, err := dc.OpenAPISchema()
	if err != nil {
		t.Fatalf("OpenAPISchema: %v", err)
	}
	models, err := proto.NewOpenAPIData(doc)
	if err != nil {
		t.Fatalf("NewOpenAPIData: %v", err)
	}
	pod, ok := models.LookupModel("io.k8s.api.core.v1.Pod").(*proto.Kind)
	if !ok {
		t.Fatalf("Pod model is not a kind")
	}
	gvks, _ := pod.GetExtensions()[extGVK].([]any)
	if len(gvks) != 1 {
		t.Fatalf("Pod GVK extension = %v, want one entry", pod.GetExtensions()[extGVK])
	}
	// kubectl's proto models decode extensions with YAML: untyped map keys.
	if gvk, _ := gvks[0].(map[any]any); gvk["kind"] != "Pod" || gvk["version"] != "v1" || gvk["group"] != "" {
		t.Errorf("Pod GVK = %v", gvks[0])
	}
	spec := pod.Fields["spec"].(proto.Reference).SubSchema().(*proto.Kind)
	containers := spec.Fields["containers"]
	if got := containers.GetExtensions()[extPatchMergeKey]; got != "name" {
		t.Errorf("containers patch merge key = %v, want name", got)
	}
	if got := containers.GetExtensions()[extPatchStrategy]; got != "merge" {
		t.Errorf("containers patch strategy = %v, want merge", got)
	}
	container := containers.(*proto.Array).SubType.(proto.Reference).SubSchema().(*proto.Kind)
	if !container.IsRequired("name") || container.IsRequired("image") {
		t.Errorf("container required fields = %v, want [name]", container.RequiredFields)
	}
}

// TestV3ThroughDiscovery reads every group-version document through
// client-go's openapi3 root, as kubectl explain and kubectl's field
// validation check do.
func TestV3ThroughDiscovery(t *testing.T) {
	_, dc := newTestServer(t)
	root := openapi3.NewRoot(dc.OpenAPIV3())
	gvs, err := root.GroupVersions()
	if err != nil {
		t.Fatalf("GroupVersions: %v", err)
	}
	if len(gvs) < 11 {
		t.Errorf("got %d group versions: %v", len(gvs), gvs)
	}
	for _, r := range registry.Builtin() {
		doc, err := root.GVSpec(r.GroupVersion())
		if err != nil {
			t.Fatalf("GVSpec(%v): %v", r.GroupVersion(), err)
		}
		for _, gvk := range []schema.GroupVersionKind{r.GroupVersionKind(), r.GroupVersion().WithKind(r.ListKind)} {
			if name := schemaWithGVK(doc, gvk); name == "" {
				t.Errorf("%v: no schema with GVK %v", r.GroupVersion(), gvk)
			}
		}
		if err := supportsFieldValidation(doc, r.GroupVersionKind()); err != "" {
			t.Errorf("%v: %s", r.GroupVersionKind(), err)
		}
	}
	apps, err := root.GVSpec(schema.GroupVersion{Group: "apps", Version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	ios := apps.Components.Schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
	if ios == nil || len(ios.OneOf) != 2 || ios.OneOf[0].Type[0] != "integer" || ios.Extensions[extIntOrString] != true {
		t.Errorf("IntOrString in apps/v1 = %+v", ios)
	}
	// Refs with siblings are wrapped in allOf, as kubectl explain expects.
	spec := apps.Components.Schemas["io.k8s.api.apps.v1.Deployment"].Properties["spec"]
	if len(spec.AllOf) != 1 || spec.AllOf[0].Ref.String() != "#/components/schemas/io.k8s.api.apps.v1.DeploymentSpec" {
		t.Errorf("Deployment.spec = %+v", spec)
	}
}

// schemaWithGVK returns the name of the component schema carrying gvk.
func schemaWithGVK(doc *spec3.OpenAPI, gvk schema.GroupVersionKind) string {
	for name, s := range doc.Components.Schemas {
		var list []map[string]string
		if err := s.Extensions.GetObject(extGVK, &list); err != nil {
			continue
		}
		for _, e := range list {
			if e["group"] == gvk.Group && e["version"] == gvk.Version && e["kind"] == gvk.Kind {
				return name
			}
		}
	}
	return ""
}

// supportsFieldValidation checks what kubectl's query parameter verifier
// checks: PATCH operations tagged with the GVK list fieldValidation among
// their own parameters. kubectl stops at the first such operation it
// meets, in map order, so every one must have it.
func supportsFieldValidation(doc *spec3.OpenAPI, gvk schema.GroupVersionKind) string {
	found := 0
	for path, item := range doc.Paths.Paths {
		op := item.Patch
		if op == nil {
			continue
		}
		var opGVK map[string]string
		if err := op.Extensions.GetObject(extGVK, &opGVK); err != nil ||
			opGVK["group"] != gvk.Group || opGVK["version"] != gvk.Version || opGVK["kind"] != gvk.Kind {
			continue
		}
		found++
		has := false
		for _, p := range op.Parameters {
			has = has || p.Name == "fieldValidation"
		}
		if !has {
			return "PATCH " + path + " lacks fieldValidation"
		}
	}
	if found == 0 {
		return "no PATCH operation"
	}
	return ""
}

// definitions decodes the served v2 document's definitions.
func definitions(t *testing.T, h *Handler) spec.Definitions {
	t.Helper()
	var doc spec.Swagger
	if err := json.Unmarshal(h.v2.json, &doc); err != nil {
		t.Fatalf("decode v2: %v", err)
	}
	return doc.Definitions
}

// TestDescriptions checks that SwaggerDoc texts reach the schemas.
func TestDescriptions(t *testing.T) {
	h, err := New(registry.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	defs := definitions(t, h)
	doc := corev1.Pod{}.SwaggerDoc()
	pod := defs["io.k8s.api.core.v1.Pod"]
	if pod.Description != doc[""] || pod.Description == "" {
		t.Errorf("Pod description = %q", pod.Description)
	}
	if got := pod.Properties["spec"].Description; got != doc["spec"] || got == "" {
		t.Errorf("Pod.spec description = %q, want %q", got, doc["spec"])
	}
	// Inlined TypeMeta fields carry TypeMeta's descriptions.
	if pod.Properties["kind"].Description == "" || pod.Properties["apiVersion"].Description == "" {
		t.Errorf("Pod kind/apiVersion have no description")
	}
	if got := defs["io.k8s.api.core.v1.Container"].Properties["image"].Description; got != (corev1.Container{}).SwaggerDoc()["image"] {
		t.Errorf("Container.image description = %q", got)
	}
}

// TestEveryKindHasSchema checks the v2 document covers every resource.
func TestEveryKindHasSchema(t *testing.T) {
	h, err := New(registry.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	byGVK := map[schema.GroupVersionKind]string{}
	defs := definitions(t, h)
	for name, s := range defs {
		var list []map[string]string
		if err := s.Extensions.GetObject(extGVK, &list); err != nil {
			continue
		}
		for _, e := range list {
			byGVK[schema.GroupVersionKind{Group: e["group"], Version: e["version"], Kind: e["kind"]}] = name
		}
	}
	for _, r := range registry.Builtin() {
		for _, gvk := range []schema.GroupVersionKind{r.GroupVersionKind(), r.GroupVersion().WithKind(r.ListKind)} {
			name, ok := byGVK[gvk]
			if !ok {
				t.Errorf("no definition for %v", gvk)
				continue
			}
			if len(defs[name].Properties) == 0 {
				t.Errorf("definition %s of %v has no properties", name, gvk)
			}
		}
	}
}
