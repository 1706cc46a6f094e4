package garbagecollector

import (
	"reflect"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestBuildResourceTable(t *testing.T) {
	all := []string{"create", "delete", "get", "list", "patch", "update", "watch"}
	lists := []*metav1.APIResourceList{{
		GroupVersion: "v1",
		APIResources: []metav1.APIResource{
			{Name: "pods", Kind: "Pod", Namespaced: true, Verbs: all},
			{Name: "pods/status", Kind: "Pod", Namespaced: true, Verbs: []string{"get", "patch"}},
			{Name: "nodes", Kind: "Node", Verbs: all},
			{Name: "events", Kind: "Event", Namespaced: true, Verbs: all},
			{Name: "componentstatuses", Kind: "ComponentStatus", Verbs: []string{"get", "list"}},
			{Name: "bindings", Kind: "Binding", Namespaced: true, Verbs: []string{"create"}},
		},
	}, {
		GroupVersion: "apps/v1",
		APIResources: []metav1.APIResource{
			{Name: "replicasets", Kind: "ReplicaSet", Namespaced: true, Verbs: all},
			{Name: "replicasets/scale", Kind: "Scale", Group: "autoscaling", Version: "v1", Namespaced: true, Verbs: []string{"get"}},
		},
	}, {
		GroupVersion: "events.k8s.io/v1",
		APIResources: []metav1.APIResource{{Name: "events", Kind: "Event", Namespaced: true, Verbs: all}},
	}}
	table := buildResourceTable(lists)

	var watched []string
	for gvr := range table.watchable {
		watched = append(watched, gvr.String())
	}
	slices.Sort(watched)
	wantWatched := []string{"/v1, Resource=nodes", "/v1, Resource=pods", "apps/v1, Resource=replicasets"}
	if !reflect.DeepEqual(watched, wantWatched) {
		t.Errorf("watched %v, want %v", watched, wantWatched)
	}

	rs, ok := table.byKind[schema.GroupKind{Group: "apps", Kind: "ReplicaSet"}]
	if !ok || rs.gvr != (schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}) || !rs.namespaced {
		t.Errorf("ReplicaSet maps to %+v, %v", rs, ok)
	}
	if node := table.byKind[schema.GroupKind{Kind: "Node"}]; node.namespaced || node.gvr.Resource != "nodes" {
		t.Errorf("Node maps to %+v", node)
	}
	if _, ok := table.byKind[schema.GroupKind{Group: "autoscaling", Kind: "Scale"}]; ok {
		t.Error("a subresource's kind was mapped")
	}
	if cs, ok := table.byKind[schema.GroupKind{Kind: "ComponentStatus"}]; !ok || cs.gvr.Resource != "componentstatuses" {
		t.Errorf("unwatchable kinds must still map (owners may be of any kind): %+v, %v", cs, ok)
	}
}
