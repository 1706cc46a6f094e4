package openapi

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// sample covers the shapes the reflection has to handle.
type sample struct {
	metav1.TypeMeta `json:",inline"`
	Meta            metav1.ObjectMeta             `json:"metadata,omitempty"`
	Name            string                        `json:"name"`
	Count           *int32                        `json:"count,omitempty"`
	Big             int64                         `json:"big"`
	Ratio           float64                       `json:"ratio"`
	On              bool                          `json:"on"`
	Data            []byte                        `json:"data,omitempty"`
	Labels          map[string]string             `json:"labels,omitempty"`
	Items           []sampleItem                  `json:"items,omitempty" patchStrategy:"merge" patchMergeKey:"key"`
	Port            intstr.IntOrString            `json:"port"`
	Size            resource.Quantity             `json:"size"`
	Limits          map[string]resource.Quantity  `json:"limits,omitempty"`
	When            *metav1.Time                  `json:"when,omitempty"`
	Hidden          string                        `json:"-"`
	unexported      string                        //nolint:unused
	Nested          map[string][]metav1.Condition `json:"nested,omitempty"`
}

type sampleItem struct {
	Key string `json:"key"`
}

func (sample) SwaggerDoc() map[string]string {
	return map[string]string{"": "A sample.", "name": "The name."}
}

func TestReflectedSchema(t *testing.T) {
	b := newSchemaBuilder()
	name, err := b.define(reflect.TypeOf(&sample{}))
	if err != nil {
		t.Fatal(err)
	}
	if name != "com.github.skiffkube.skiff.internal.apiserver.openapi.sample" {
		t.Errorf("name = %q", name)
	}
	s := b.defs[name]
	if s.Description != "A sample." || s.Properties["name"].Description != "The name." {
		t.Errorf("descriptions: %q, %q", s.Description, s.Properties["name"].Description)
	}
	ref := func(def string) string { return v2RefPrefix + def }
	tests := []struct {
		prop, typ, format, ref string
	}{
		{"kind", "string", "", ""},
		{"apiVersion", "string", "", ""},
		{"metadata", "", "", ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")},
		{"name", "string", "", ""},
		{"count", "integer", "int32", ""},
		{"big", "integer", "int64", ""},
		{"ratio", "number", "double", ""},
		{"on", "boolean", "", ""},
		{"data", "string", "byte", ""},
		{"labels", "object", "", ""},
		{"items", "array", "", ""},
		{"port", "", "", ref("io.k8s.apimachinery.pkg.util.intstr.IntOrString")},
		{"size", "", "", ref("io.k8s.apimachinery.pkg.api.resource.Quantity")},
		{"when", "", "", ref("io.k8s.apimachinery.pkg.apis.meta.v1.Time")},
	}
	for _, tt := range tests {
		p, ok := s.Properties[tt.prop]
		if !ok {
			t.Errorf("property %s missing", tt.prop)
			continue
		}
		if typeOf(p) != tt.typ || p.Format != tt.format || p.Ref.String() != tt.ref {
			t.Errorf("%s: type %q format %q ref %q; want %q %q %q", tt.prop, typeOf(p), p.Format, p.Ref.String(), tt.typ, tt.format, tt.ref)
		}
	}
	if len(s.Properties) != 16 {
		t.Errorf("got %d properties, want 16 (no hidden or unexported ones)", len(s.Properties))
	}
	if len(s.Required) != 1 || s.Required[0] != "name" {
		t.Errorf("required = %v, want [name]", s.Required)
	}
	items := s.Properties["items"]
	if items.Extensions[extPatchMergeKey] != "key" || items.Extensions[extPatchStrategy] != "merge" {
		t.Errorf("items extensions = %v", items.Extensions)
	}
	if got := items.Items.Schema.Ref.String(); got != ref("com.github.skiffkube.skiff.internal.apiserver.openapi.sampleItem") {
		t.Errorf("items ref = %q", got)
	}
	if got := s.Properties["labels"].AdditionalProperties.Schema; typeOf(*got) != "string" {
		t.Errorf("labels values = %v", got)
	}
	if got := s.Properties["nested"].AdditionalProperties.Schema.Items.Schema.Ref.String(); got != ref("io.k8s.apimachinery.pkg.apis.meta.v1.Condition") {
		t.Errorf("nested = %q", got)
	}

	scalars := []struct{ def, typ, format string }{
		{"io.k8s.apimachinery.pkg.util.intstr.IntOrString", "string", "int-or-string"},
		{"io.k8s.apimachinery.pkg.api.resource.Quantity", "string", ""},
		{"io.k8s.apimachinery.pkg.apis.meta.v1.Time", "string", "date-time"},
	}
	for _, tt := range scalars {
		d := b.defs[tt.def]
		if d == nil || typeOf(*d) != tt.typ || d.Format != tt.format || d.Description == "" {
			t.Errorf("%s = %+v", tt.def, d)
		}
	}
	if b.defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"].Extensions[extIntOrString] != true {
		t.Errorf("IntOrString lacks %s", extIntOrString)
	}
	reach := b.closure([]string{name})
	if !reach["io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry"] || !reach["io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1"] {
		t.Errorf("closure misses ObjectMeta's dependencies: %v", reach)
	}
}

func typeOf(s spec.Schema) string {
	if len(s.Type) == 0 {
		return ""
	}
	return s.Type[0]
}
