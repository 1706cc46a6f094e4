package apiserver

import (
	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// addMetricsAPI adds metrics.k8s.io/v1beta1 (nodes and pods, get and
// list) to the legacy and aggregated discovery documents: kubectl top
// looks for the group there before it asks for metrics.
func (d *discovery) addMetricsAPI() {
	gv := schema.GroupVersion{Group: metricsGroup, Version: metricsVersion}
	verbs := metav1.Verbs{"get", "list"}
	resources := []metav1.APIResource{
		{Name: "nodes", SingularName: "", Namespaced: false, Kind: "NodeMetrics", Verbs: verbs},
		{Name: "pods", SingularName: "", Namespaced: true, Kind: "PodMetrics", Verbs: verbs},
	}
	d.resources[gv] = &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: gv.String(), APIResources: resources}

	var cidrs []metav1.ServerAddressByClientCIDR
	if len(d.groups.Groups) > 0 {
		cidrs = d.groups.Groups[0].ServerAddressByClientCIDRs
	}
	version := metav1.GroupVersionForDiscovery{GroupVersion: gv.String(), Version: gv.Version}
	d.groups.Groups = append(d.groups.Groups, metav1.APIGroup{TypeMeta: metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"},
		Name: metricsGroup, Versions: []metav1.GroupVersionForDiscovery{version}, PreferredVersion: version, ServerAddressByClientCIDRs: cidrs})
	// Appending may have moved the groups: point the index at the new ones.
	for i := range d.groups.Groups {
		d.groupByName[d.groups.Groups[i].Name] = &d.groups.Groups[i]
	}

	vd := apidiscoveryv2.APIVersionDiscovery{Version: gv.Version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
	for _, r := range resources {
		scope := apidiscoveryv2.ScopeCluster
		if r.Namespaced {
			scope = apidiscoveryv2.ScopeNamespace
		}
		vd.Resources = append(vd.Resources, apidiscoveryv2.APIResourceDiscovery{Resource: r.Name, Scope: scope, Verbs: r.Verbs,
			ResponseKind: &metav1.GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: r.Kind}})
	}
	agg := d.aggregated[false]
	agg.Items = append(agg.Items, apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: metricsGroup},
		Versions: []apidiscoveryv2.APIVersionDiscovery{vd}})
}
