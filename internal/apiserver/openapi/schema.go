package openapi

import (
	"fmt"
	"reflect"
	"strings"

	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Vendor extensions Kubernetes clients read from the schemas.
const (
	extGVK           = "x-kubernetes-group-version-kind"
	extPatchStrategy = "x-kubernetes-patch-strategy"
	extPatchMergeKey = "x-kubernetes-patch-merge-key"
	extIntOrString   = "x-kubernetes-int-or-string"
)

// v2RefPrefix is where swagger 2.0 documents keep their definitions.
const v2RefPrefix = "#/definitions/"

// openAPITyped is implemented by the few apimachinery types that marshal
// themselves to a JSON scalar (Time, MicroTime, Duration, Quantity,
// IntOrString).
type openAPITyped interface {
	OpenAPISchemaType() []string
	OpenAPISchemaFormat() string
}

// openAPIV3OneOf is implemented by the scalars that accept several JSON
// types (Quantity, IntOrString); OpenAPI 3 documents list them in oneOf.
type openAPIV3OneOf interface {
	OpenAPIV3OneOfTypes() []string
}

// swaggerDocumented is implemented by every k8s.io/api and apimachinery
// struct: field descriptions keyed by JSON name, "" for the type itself.
type swaggerDocumented interface {
	SwaggerDoc() map[string]string
}

// schemaBuilder turns Go types into swagger 2.0 definitions. It is used by
// one goroutine while New runs and then discarded.
type schemaBuilder struct {
	// defs holds every definition built so far, by definition name.
	defs map[string]*spec.Schema
	// deps lists the definitions each definition refers to directly.
	deps map[string][]string
	// names remembers the definition name given to each Go type.
	names map[reflect.Type]string
	// oneOf holds, by definition name, the JSON types of the scalars that
	// accept several.
	oneOf map[string][]string
	// scalarDocs describes the self-marshalling scalar types, which have no
	// SwaggerDoc of their own.
	scalarDocs map[string]string
}

func newSchemaBuilder() *schemaBuilder {
	return &schemaBuilder{
		defs:       map[string]*spec.Schema{},
		deps:       map[string][]string{},
		names:      map[reflect.Type]string{},
		oneOf:      map[string][]string{},
		scalarDocs: scalarDescriptions(),
	}
}

// scalarDescriptions describes the types whose JSON form is a scalar.
func scalarDescriptions() map[string]string {
	return map[string]string{
		"io.k8s.apimachinery.pkg.apis.meta.v1.Time":      "A timestamp in RFC 3339 form, with a precision of seconds.",
		"io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime": "A timestamp in RFC 3339 form, with a precision of microseconds.",
		"io.k8s.apimachinery.pkg.apis.meta.v1.Duration":  "A duration written as a Go duration string, for example \"1h2m3s\".",
		"io.k8s.apimachinery.pkg.api.resource.Quantity": "A fixed-point number with an optional suffix, for example \"100m\", \"1.5\", \"2Gi\" or \"1e3\". " +
			"Binary suffixes are Ki, Mi, Gi, Ti, Pi and Ei; decimal ones are m, k, M, G, T, P and E. " +
			"Values are kept in canonical form when serialized.",
		"io.k8s.apimachinery.pkg.util.intstr.IntOrString": "A value that is either an integer or a string; in JSON, either a number or a quoted string.",
	}
}

// define makes sure t (a named struct or self-marshalling type) has a
// definition and returns its name.
func (b *schemaBuilder) define(t reflect.Type) (string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if name, ok := b.names[t]; ok {
		return name, nil
	}
	if t.Name() == "" || t.PkgPath() == "" {
		return "", fmt.Errorf("type %v has no name to define", t)
	}
	name := definitionName(t)
	b.names[t] = name
	// Reserve the name first so that recursive types terminate.
	s := &spec.Schema{}
	b.defs[name] = s
	if typed, ok := reflect.New(t).Interface().(openAPITyped); ok {
		s.Type = typed.OpenAPISchemaType()
		s.Format = typed.OpenAPISchemaFormat()
		s.Description = b.scalarDocs[name]
		if o, ok := typed.(openAPIV3OneOf); ok {
			b.oneOf[name] = o.OpenAPIV3OneOfTypes()
		}
		if s.Format == "int-or-string" {
			s.AddExtension(extIntOrString, true)
		}
		return name, nil
	}
	if t.Kind() != reflect.Struct {
		return "", fmt.Errorf("type %s is not a struct", name)
	}
	s.Type = spec.StringOrArray{"object"}
	s.Description = typeDoc(t)[""]
	if err := b.addFields(s, t, name); err != nil {
		return "", fmt.Errorf("definition %s: %w", name, err)
	}
	return name, nil
}

// typeDoc returns the SwaggerDoc of struct t, or nil.
func typeDoc(t reflect.Type) map[string]string {
	if d, ok := reflect.New(t).Interface().(swaggerDocumented); ok {
		return d.SwaggerDoc()
	}
	return nil
}

// addFields adds the JSON-visible fields of struct t to s, following
// encoding/json: embedded structs without a JSON name are inlined.
func (b *schemaBuilder) addFields(s *spec.Schema, t reflect.Type, owner string) error {
	doc := typeDoc(t)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			if err := b.addFields(s, ft, owner); err != nil {
				return err
			}
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		prop, err := b.fieldSchema(f.Type, owner)
		if err != nil {
			return fmt.Errorf("field %s: %w", f.Name, err)
		}
		prop.Description = doc[name]
		if v := f.Tag.Get("patchStrategy"); v != "" {
			prop.AddExtension(extPatchStrategy, v)
		}
		if v := f.Tag.Get("patchMergeKey"); v != "" {
			prop.AddExtension(extPatchMergeKey, v)
		}
		if s.Properties == nil {
			s.Properties = map[string]spec.Schema{}
		}
		s.Properties[name] = *prop
		if isRequired(f, name, opts) {
			s.Required = append(s.Required, name)
		}
	}
	return nil
}

// isRequired is deliberately narrow: wrongly required fields make clients
// reject valid objects, so only a name that identifies a list element (no
// omitempty, plain string) is required.
func isRequired(f reflect.StructField, name, opts string) bool {
	return name == "name" && f.Type.Kind() == reflect.String && !hasOption(opts, "omitempty")
}

func hasOption(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}

// fieldSchema is the schema of a value of type t appearing inside the
// definition owner (whose dependencies it records).
func (b *schemaBuilder) fieldSchema(t reflect.Type, owner string) (*spec.Schema, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isDefinition(t) {
		name, err := b.define(t)
		if err != nil {
			return nil, err
		}
		b.deps[owner] = append(b.deps[owner], name)
		return spec.RefSchema(v2RefPrefix + name), nil
	}
	switch t.Kind() {
	case reflect.String:
		return &spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"string"}}}, nil
	case reflect.Bool:
		return &spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"boolean"}}}, nil
	case reflect.Int64, reflect.Uint64, reflect.Int, reflect.Uint:
		return typed("integer", "int64"), nil
	case reflect.Int32, reflect.Int16, reflect.Int8, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		return typed("integer", "int32"), nil
	case reflect.Float64:
		return typed("number", "double"), nil
	case reflect.Float32:
		return typed("number", "float"), nil
	case reflect.Interface:
		return &spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{"object"}}}, nil
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return typed("string", "byte"), nil
		}
		items, err := b.fieldSchema(t.Elem(), owner)
		if err != nil {
			return nil, err
		}
		return &spec.Schema{SchemaProps: spec.SchemaProps{
			Type: spec.StringOrArray{"array"}, Items: &spec.SchemaOrArray{Schema: items}}}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("map key %v is not a string", t.Key())
		}
		values, err := b.fieldSchema(t.Elem(), owner)
		if err != nil {
			return nil, err
		}
		return &spec.Schema{SchemaProps: spec.SchemaProps{
			Type: spec.StringOrArray{"object"}, AdditionalProperties: &spec.SchemaOrBool{Allows: true, Schema: values}}}, nil
	}
	return nil, fmt.Errorf("unsupported type %v", t)
}

// isDefinition reports whether values of t are described by a definition
// of their own rather than inline: named structs and the self-marshalling
// scalar types.
func isDefinition(t reflect.Type) bool {
	if t.Name() == "" || t.PkgPath() == "" {
		return false
	}
	if _, ok := reflect.New(t).Interface().(openAPITyped); ok {
		return true
	}
	return t.Kind() == reflect.Struct
}

func typed(typ, format string) *spec.Schema {
	return &spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{typ}, Format: format}}
}

// closure returns the given definitions and every definition they reach.
func (b *schemaBuilder) closure(roots []string) map[string]bool {
	seen := map[string]bool{}
	stack := append([]string(nil), roots...)
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] {
			continue
		}
		seen[n] = true
		stack = append(stack, b.deps[n]...)
	}
	return seen
}
