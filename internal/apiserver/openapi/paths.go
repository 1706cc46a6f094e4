package openapi

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// Media types the operations accept and return.
const (
	mimeJSON           = "application/json"
	mimeYAML           = "application/yaml"
	mimeJSONPatch      = "application/json-patch+json"
	mimeMergePatch     = "application/merge-patch+json"
	mimeStrategicPatch = "application/strategic-merge-patch+json"
	mimeApplyPatch     = "application/apply-patch+yaml"
	mimeJSONWatch      = "application/json;stream=watch"
)

// Definitions the operations refer to besides the served kinds.
const (
	defStatus          = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
	defDeleteOptions   = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"
	defPatch           = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch"
	defWatchEvent      = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"
	defAPIResourceList = "io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList"
)

// subject is what a set of operations acts on: one object type as seen
// through one path.
type subject struct {
	gv schema.GroupVersion
	// gvk of the objects sent and returned (for subresources like scale,
	// not the resource's own kind).
	gvk schema.GroupVersionKind
	// def and listDef name the definitions of the object and its list.
	def, listDef string
	// opName is the operation ID suffix: "NamespacedPod", "NodeStatus".
	opName string
	// tag groups the operations: "core_v1", "apps_v1".
	tag string
}

// opSpec is one operation before it is rendered.
type opSpec struct {
	verb string // operation ID prefix: list, create, read, ...
	// collection marks operations on a whole collection whose ID says so
	// ("deleteCoreV1CollectionNamespacedPod").
	collection bool
	action     string // x-kubernetes-action
	params     []string
	body       string // definition of the body parameter, if any
	resp       map[int]string
	consumes   []string
	produces   []string
}

// pathBuilder collects the path items of one group version.
type pathBuilder struct {
	params map[string]paramSpec
	paths  map[string]spec.PathItem
}

func newPathBuilder() *pathBuilder {
	return &pathBuilder{params: parameterSpecs(), paths: map[string]spec.PathItem{}}
}

// Operations on collections, items and the all-namespaces list.
func listOp(s subject) opSpec {
	return opSpec{verb: "list", action: "list", resp: map[int]string{http.StatusOK: s.listDef},
		params:   []string{"allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch"},
		produces: []string{mimeJSON, mimeYAML, mimeJSONWatch}}
}

func createOp(s subject) opSpec {
	return opSpec{verb: "create", action: "post", body: s.def, params: []string{"dryRun", "fieldManager", "fieldValidation"},
		resp: map[int]string{http.StatusOK: s.def, http.StatusCreated: s.def, http.StatusAccepted: s.def}}
}

func deleteCollectionOp() opSpec {
	return opSpec{verb: "delete", collection: true, action: "deletecollection", body: defDeleteOptions,
		params: []string{"continue", "dryRun", "fieldSelector", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential",
			"labelSelector", "limit", "orphanDependents", "propagationPolicy", "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds"},
		resp: map[int]string{http.StatusOK: defStatus}}
}

func readOp(s subject) opSpec {
	return opSpec{verb: "read", action: "get", resp: map[int]string{http.StatusOK: s.def}}
}

func replaceOp(s subject) opSpec {
	return opSpec{verb: "replace", action: "put", body: s.def, params: []string{"dryRun", "fieldManager", "fieldValidation"},
		resp: map[int]string{http.StatusOK: s.def, http.StatusCreated: s.def}}
}

func patchOp(s subject) opSpec {
	return opSpec{verb: "patch", action: "patch", body: defPatch, params: []string{"dryRun", "fieldManager", "fieldValidation", "force"},
		resp:     map[int]string{http.StatusOK: s.def, http.StatusCreated: s.def},
		consumes: []string{mimeJSONPatch, mimeMergePatch, mimeStrategicPatch, mimeApplyPatch}}
}

func deleteOp(s subject) opSpec {
	return opSpec{verb: "delete", action: "delete", body: defDeleteOptions,
		params: []string{"dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential", "orphanDependents", "propagationPolicy"},
		resp:   map[int]string{http.StatusOK: s.def, http.StatusAccepted: s.def}}
}

// add renders ops on path; pathParams are the path's own parameters
// ("namespace", "name").
func (b *pathBuilder) add(path string, s subject, pathParams []string, ops map[string]opSpec) error {
	if _, dup := b.paths[path]; dup {
		return fmt.Errorf("path %s defined twice", path)
	}
	item := spec.PathItem{}
	for _, name := range append(pathParams, "pretty") {
		item.Parameters = append(item.Parameters, parameter(b.params, name, ""))
	}
	for method, o := range ops {
		op := b.operation(s, o)
		switch method {
		case http.MethodGet:
			item.Get = op
		case http.MethodPost:
			item.Post = op
		case http.MethodPut:
			item.Put = op
		case http.MethodPatch:
			item.Patch = op
		case http.MethodDelete:
			item.Delete = op
		default:
			return fmt.Errorf("path %s: unexpected method %s", path, method)
		}
	}
	b.paths[path] = item
	return nil
}

// operation renders one operation on subject s.
func (b *pathBuilder) operation(s subject, o opSpec) *spec.Operation {
	id := o.verb + operationGroupVersion(s.gv)
	if o.collection {
		id += "Collection"
	}
	op := &spec.Operation{OperationProps: spec.OperationProps{
		ID:       id + s.opName,
		Tags:     []string{s.tag},
		Consumes: o.consumes,
		Produces: o.produces,
		Schemes:  []string{"https"},
	}}
	if op.Consumes == nil && o.body != "" {
		op.Consumes = []string{"*/*"}
	}
	if op.Produces == nil {
		op.Produces = []string{mimeJSON, mimeYAML}
	}
	if o.body != "" {
		op.Parameters = append(op.Parameters, parameter(b.params, "body", o.body))
	}
	for _, name := range o.params {
		op.Parameters = append(op.Parameters, parameter(b.params, name, ""))
	}
	op.Responses = &spec.Responses{ResponsesProps: spec.ResponsesProps{StatusCodeResponses: map[int]spec.Response{
		http.StatusUnauthorized: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}},
	}}}
	for code, def := range o.resp {
		op.Responses.StatusCodeResponses[code] = spec.Response{ResponseProps: spec.ResponseProps{
			Description: http.StatusText(code), Schema: spec.RefSchema(v2RefPrefix + def)}}
	}
	op.AddExtension("x-kubernetes-action", o.action)
	op.AddExtension(extGVK, gvkValue(s.gvk))
	return op
}

// gvkValue is the JSON form of a GVK in the x-kubernetes-group-version-kind
// extension.
func gvkValue(gvk schema.GroupVersionKind) map[string]any {
	return map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
}

// gvkList is the definition form of the extension: a sorted list.
func gvkList(gvks map[schema.GroupVersionKind]bool) []any {
	sorted := make([]schema.GroupVersionKind, 0, len(gvks))
	for gvk := range gvks {
		sorted = append(sorted, gvk)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].String() < sorted[j].String() })
	out := make([]any, 0, len(sorted))
	for _, gvk := range sorted {
		out = append(out, gvkValue(gvk))
	}
	return out
}

// tagOf is the operation tag of a group version: "core_v1",
// "rbacAuthorization_v1".
func tagOf(gv schema.GroupVersion) string {
	name := operationGroupVersion(schema.GroupVersion{Group: gv.Group})
	return strings.ToLower(name[:1]) + name[1:] + "_" + gv.Version
}
