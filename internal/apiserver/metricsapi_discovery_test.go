package apiserver

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
)

func TestMetricsDiscovery(t *testing.T) {
	d := newDiscovery(registry.Builtin(), "10.0.0.1:6443")
	before := len(d.groups.Groups)
	d.addMetricsAPI()

	if len(d.groups.Groups) != before+1 {
		t.Fatalf("%d groups, want %d", len(d.groups.Groups), before+1)
	}
	g := d.groupByName[metricsGroup]
	if g == nil || g.PreferredVersion.GroupVersion != "metrics.k8s.io/v1beta1" || len(g.ServerAddressByClientCIDRs) != 1 {
		t.Fatalf("metrics group %+v", g)
	}
	// The index still points into the (possibly moved) group list.
	for i := range d.groups.Groups {
		if d.groupByName[d.groups.Groups[i].Name] != &d.groups.Groups[i] {
			t.Errorf("index of %s is stale", d.groups.Groups[i].Name)
		}
	}
	list := d.resources[schema.GroupVersion{Group: metricsGroup, Version: metricsVersion}]
	if list == nil || len(list.APIResources) != 2 {
		t.Fatalf("resources %+v", list)
	}
	for _, r := range list.APIResources {
		if !slices.Equal(r.Verbs, []string{"get", "list"}) || r.Namespaced != (r.Name == "pods") {
			t.Errorf("resource %+v", r)
		}
	}
	agg := d.aggregated[false].Items
	last := agg[len(agg)-1]
	if last.Name != metricsGroup || len(last.Versions) != 1 || len(last.Versions[0].Resources) != 2 ||
		last.Versions[0].Resources[1].ResponseKind.Kind != "PodMetrics" {
		t.Errorf("aggregated %+v", last)
	}
	for _, g := range d.aggregated[true].Items {
		if g.Name == metricsGroup {
			t.Error("metrics.k8s.io in the legacy (/api) aggregated document")
		}
	}
}
