package openapi

import (
	"fmt"
	"net/http"
	"reflect"

	authenticationv1 "k8s.io/api/authentication/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
)

// subresourceSpec describes the operations of one subresource.
type subresourceSpec struct {
	// obj is the type sent and returned; nil means the resource's own kind.
	obj runtime.Object
	gvk schema.GroupVersionKind
	// methods served on the subresource path.
	methods []string
}

// subresourceSpecs lists the subresources that have object bodies. The
// streaming ones (log, exec, attach, portforward, proxy) are not described.
func subresourceSpecs() map[string]subresourceSpec {
	getPutPatch := []string{http.MethodGet, http.MethodPut, http.MethodPatch}
	return map[string]subresourceSpec{
		"status":              {methods: getPutPatch},
		"ephemeralcontainers": {methods: getPutPatch},
		"resize":              {methods: getPutPatch},
		"finalize":            {methods: []string{http.MethodPut}},
		"scale": {obj: &autoscalingv1.Scale{}, methods: getPutPatch,
			gvk: autoscalingv1.SchemeGroupVersion.WithKind("Scale")},
		"binding": {obj: &corev1.Binding{}, methods: []string{http.MethodPost},
			gvk: corev1.SchemeGroupVersion.WithKind("Binding")},
		"eviction": {obj: &policyv1.Eviction{}, methods: []string{http.MethodPost},
			gvk: policyv1.SchemeGroupVersion.WithKind("Eviction")},
		"token": {obj: &authenticationv1.TokenRequest{}, methods: []string{http.MethodPost},
			gvk: authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")},
	}
}

// groupBuilder gathers what one group version's document holds.
type groupBuilder struct {
	gv    schema.GroupVersion
	paths *pathBuilder
	// roots are the definitions the paths refer to.
	roots []string
}

// addResource adds the paths of r (collection, item, all-namespaces list,
// subresources) and records the kinds' GVKs in gvks.
func (g *groupBuilder) addResource(sb *schemaBuilder, r registry.Resource, subs map[string]subresourceSpec, gvks map[string]map[schema.GroupVersionKind]bool) error {
	if r.CreateOnly {
		return g.addCreateOnly(sb, r, gvks)
	}
	if r.New == nil || r.NewList == nil {
		return fmt.Errorf("resource %s has no object constructors", r.GroupVersionResource)
	}
	def, err := sb.define(reflect.TypeOf(r.New()))
	if err != nil {
		return fmt.Errorf("resource %s: %w", r.GroupVersionResource, err)
	}
	listDef, err := sb.define(reflect.TypeOf(r.NewList()))
	if err != nil {
		return fmt.Errorf("resource %s list: %w", r.GroupVersionResource, err)
	}
	addGVK(gvks, def, r.GroupVersionKind())
	addGVK(gvks, listDef, r.GroupVersion().WithKind(r.ListKind))
	g.roots = append(g.roots, def, listDef)

	s := subject{gv: g.gv, gvk: r.GroupVersionKind(), def: def, listDef: listDef, opName: r.Kind, tag: tagOf(g.gv)}
	base := "/" + groupVersionPrefix(g.gv) + "/"
	itemParams := []string{"name"}
	var collParams []string
	if r.Namespaced {
		all := s
		all.opName = r.Kind + "ForAllNamespaces"
		if err := g.paths.add(base+r.Resource, all, nil, map[string]opSpec{http.MethodGet: listOp(all)}); err != nil {
			return err
		}
		s.opName = "Namespaced" + r.Kind
		base += "namespaces/{namespace}/"
		itemParams = append(itemParams, "namespace")
		collParams = []string{"namespace"}
	}
	coll := base + r.Resource
	if err := g.paths.add(coll, s, collParams, map[string]opSpec{
		http.MethodGet: listOp(s), http.MethodPost: createOp(s), http.MethodDelete: deleteCollectionOp(),
	}); err != nil {
		return err
	}
	item := coll + "/{name}"
	if err := g.paths.add(item, s, itemParams, map[string]opSpec{
		http.MethodGet: readOp(s), http.MethodPut: replaceOp(s), http.MethodPatch: patchOp(s), http.MethodDelete: deleteOp(s),
	}); err != nil {
		return err
	}
	for _, name := range r.Subresources {
		if err := g.addSubresource(sb, s, item+"/"+name, name, itemParams, subs, gvks); err != nil {
			return fmt.Errorf("resource %s: %w", r.GroupVersionResource, err)
		}
	}
	return nil
}

// addSubresource adds the operations of subresource name of the resource
// that s describes, when the subresource has object bodies.
func (g *groupBuilder) addSubresource(sb *schemaBuilder, s subject, path, name string, params []string,
	subs map[string]subresourceSpec, gvks map[string]map[schema.GroupVersionKind]bool) error {
	sub, ok := subs[name]
	if !ok {
		return nil
	}
	s.opName += capitalize(name)
	if sub.obj != nil {
		def, err := sb.define(reflect.TypeOf(sub.obj))
		if err != nil {
			return fmt.Errorf("subresource %s: %w", name, err)
		}
		s.def, s.gvk = def, sub.gvk
		addGVK(gvks, def, sub.gvk)
		g.roots = append(g.roots, def)
	}
	ops := map[string]opSpec{}
	for _, m := range sub.methods {
		switch m {
		case http.MethodGet:
			ops[m] = readOp(s)
		case http.MethodPut:
			ops[m] = replaceOp(s)
		case http.MethodPatch:
			ops[m] = patchOp(s)
		case http.MethodPost:
			ops[m] = createOp(s)
		}
	}
	return g.paths.add(path, s, params, ops)
}

func addGVK(gvks map[string]map[schema.GroupVersionKind]bool, def string, gvk schema.GroupVersionKind) {
	if gvks[def] == nil {
		gvks[def] = map[schema.GroupVersionKind]bool{}
	}
	gvks[def][gvk] = true
}

// addCreateOnly adds the one POST operation of a review resource.
func (g *groupBuilder) addCreateOnly(sb *schemaBuilder, r registry.Resource, gvks map[string]map[schema.GroupVersionKind]bool) error {
	if r.New == nil {
		return fmt.Errorf("resource %s has no object constructor", r.GroupVersionResource)
	}
	def, err := sb.define(reflect.TypeOf(r.New()))
	if err != nil {
		return fmt.Errorf("resource %s: %w", r.GroupVersionResource, err)
	}
	addGVK(gvks, def, r.GroupVersionKind())
	g.roots = append(g.roots, def)
	s := subject{gv: g.gv, gvk: r.GroupVersionKind(), def: def, opName: r.Kind, tag: tagOf(g.gv)}
	path := "/" + groupVersionPrefix(g.gv) + "/"
	var params []string
	if r.Namespaced {
		s.opName = "Namespaced" + r.Kind
		path += "namespaces/{namespace}/"
		params = []string{"namespace"}
	}
	return g.paths.add(path+r.Resource, s, params, map[string]opSpec{http.MethodPost: createOp(s)})
}
