package openapi

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/openapiconv"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
)

// documents are the built OpenAPI documents, as Go values.
type documents struct {
	// v2 is the swagger 2.0 document of everything.
	v2 *spec.Swagger
	// v3 holds one OpenAPI 3.0 document per group version, keyed by its
	// discovery path ("api/v1", "apis/apps/v1").
	v3 map[string]*spec3.OpenAPI
}

// buildDocuments derives every document from the resource list.
func buildDocuments(resources []registry.Resource) (*documents, error) {
	sb := newSchemaBuilder()
	gvks := map[string]map[schema.GroupVersionKind]bool{}
	subs := subresourceSpecs()
	groups := map[schema.GroupVersion]*groupBuilder{}
	var order []schema.GroupVersion
	for _, r := range resources {
		gv := r.GroupVersion()
		g, ok := groups[gv]
		if !ok {
			g = &groupBuilder{gv: gv, paths: newPathBuilder()}
			groups[gv] = g
			order = append(order, gv)
		}
		if err := g.addResource(sb, r, subs, gvks); err != nil {
			return nil, err
		}
	}
	common, err := defineCommon(sb, gvks, order)
	if err != nil {
		return nil, err
	}
	for def, set := range gvks {
		sb.defs[def].AddExtension(extGVK, gvkList(set))
	}

	docs := &documents{v3: map[string]*spec3.OpenAPI{}}
	allPaths := map[string]spec.PathItem{}
	v3Schemas := toV3Schemas(sb.defs, sb.oneOf)
	for _, gv := range order {
		g := groups[gv]
		g.paths.addDiscovery(gv)
		for p, item := range g.paths.paths {
			allPaths[p] = item
		}
		keep := sb.closure(append(g.roots, common...))
		docs.v3[groupVersionPrefix(gv)] = v3Document(g.paths.paths, v3Schemas, keep)
	}
	docs.v2 = v2Document(allPaths, sb.defs)
	return docs, nil
}

// defineCommon defines the meta.k8s.io types every group version uses and
// returns their names.
func defineCommon(sb *schemaBuilder, gvks map[string]map[schema.GroupVersionKind]bool, served []schema.GroupVersion) ([]string, error) {
	var names []string
	for _, obj := range []any{&metav1.Status{}, &metav1.DeleteOptions{}, &metav1.Patch{}, &metav1.WatchEvent{}, &metav1.APIResourceList{}} {
		name, err := sb.define(reflect.TypeOf(obj))
		if err != nil {
			return nil, fmt.Errorf("common types: %w", err)
		}
		names = append(names, name)
	}
	addGVK(gvks, defStatus, metav1.SchemeGroupVersion.WithKind("Status"))
	for _, gv := range served {
		addGVK(gvks, defDeleteOptions, gv.WithKind("DeleteOptions"))
		addGVK(gvks, defWatchEvent, gv.WithKind("WatchEvent"))
	}
	return names, nil
}

// addDiscovery adds the group version's root path, which lists its
// resources.
func (b *pathBuilder) addDiscovery(gv schema.GroupVersion) {
	op := &spec.Operation{OperationProps: spec.OperationProps{
		ID:       "get" + operationGroupVersion(gv) + "APIResources",
		Tags:     []string{tagOf(gv)},
		Consumes: []string{mimeJSON, mimeYAML},
		Produces: []string{mimeJSON, mimeYAML},
		Schemes:  []string{"https"},
		Responses: &spec.Responses{ResponsesProps: spec.ResponsesProps{StatusCodeResponses: map[int]spec.Response{
			200: {ResponseProps: spec.ResponseProps{Description: "OK", Schema: spec.RefSchema(v2RefPrefix + defAPIResourceList)}},
			401: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}},
		}}},
	}}
	b.paths["/"+groupVersionPrefix(gv)+"/"] = spec.PathItem{PathItemProps: spec.PathItemProps{Get: op}}
}

// info describes every document.
func info() *spec.Info {
	return &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "unversioned"}}
}

// bearerToken is the one security scheme: a bearer token in the
// Authorization header.
func bearerToken() *spec.SecurityScheme {
	return &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
		Type: "apiKey", Name: "authorization", In: "header",
		Description: "Bearer token authentication: send 'Authorization: Bearer <token>'.",
	}}
}

// v2Document assembles the swagger 2.0 document.
func v2Document(paths map[string]spec.PathItem, all map[string]*spec.Schema) *spec.Swagger {
	defs := make(spec.Definitions, len(all))
	for name, s := range all {
		defs[name] = *s
	}
	return &spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger:             "2.0",
		Info:                info(),
		Paths:               &spec.Paths{Paths: paths},
		Definitions:         defs,
		SecurityDefinitions: spec.SecurityDefinitions{"BearerToken": bearerToken()},
		Security:            []map[string][]string{{"BearerToken": {}}},
	}}
}

// toV3Schemas converts every definition to its OpenAPI 3.0 form once, for
// all group-version documents to share. The scalars that accept several
// JSON types get a oneOf of those types instead of a single type.
func toV3Schemas(defs map[string]*spec.Schema, oneOf map[string][]string) map[string]*spec.Schema {
	out := make(map[string]*spec.Schema, len(defs))
	for name, d := range defs {
		s := openapiconv.ConvertSchema(d)
		if types, ok := oneOf[name]; ok {
			c := *s
			c.Type = nil
			c.OneOf = nil
			for _, t := range types {
				c.OneOf = append(c.OneOf, *typed(t, ""))
			}
			s = &c
		}
		out[name] = s
	}
	return out
}

// v3Document assembles a group version's OpenAPI 3.0 document from its
// paths and the schemas in keep.
func v3Document(paths map[string]spec.PathItem, schemas map[string]*spec.Schema, keep map[string]bool) *spec3.OpenAPI {
	components := &spec3.Components{
		Schemas:         make(map[string]*spec.Schema, len(keep)),
		SecuritySchemes: spec3.SecuritySchemes{"BearerToken": openapiconv.ConvertSecurityScheme(bearerToken())},
	}
	for name := range keep {
		components.Schemas[name] = schemas[name]
	}
	return &spec3.OpenAPI{
		Version:             "3.0.0",
		Info:                info(),
		Paths:               openapiconv.ConvertPaths(&spec.Paths{Paths: paths}),
		Components:          components,
		SecurityRequirement: []map[string][]string{{"BearerToken": {}}},
	}
}

// encoded is one document serialized, with its content hash.
type encoded struct {
	json []byte
	hash string
}

// encode serializes v. The document types marshal themselves; calling their
// MarshalJSON directly skips encoding/json's second pass over the output.
func encode(v any) (encoded, error) {
	var b []byte
	var err error
	if m, ok := v.(json.Marshaler); ok {
		b, err = m.MarshalJSON()
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return encoded{}, err
	}
	sum := sha256.Sum256(b)
	return encoded{json: b, hash: strings.ToUpper(hex.EncodeToString(sum[:]))}, nil
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
