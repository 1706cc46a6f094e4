package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
)

// discovery holds the static discovery documents, built once.
type discovery struct {
	legacy      *metav1.APIVersions
	groups      *metav1.APIGroupList
	groupByName map[string]*metav1.APIGroup
	resources   map[schema.GroupVersion]*metav1.APIResourceList
	aggregated  map[bool]*apidiscoveryv2.APIGroupDiscoveryList // by legacy (/api) or not (/apis)
}

var allVerbs = metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

func subresourceVerbs(sub string) metav1.Verbs {
	switch sub {
	case "status", "scale":
		return metav1.Verbs{"get", "patch", "update"}
	case "binding", "eviction", "token":
		return metav1.Verbs{"create"}
	case "log":
		return metav1.Verbs{"get"}
	case "exec", "attach", "portforward":
		return metav1.Verbs{"create", "get"}
	case "proxy":
		return metav1.Verbs{"create", "delete", "get", "patch", "update"}
	case "finalize":
		return metav1.Verbs{"update"}
	case "ephemeralcontainers", "resize":
		return metav1.Verbs{"get", "patch", "update"}
	}
	return metav1.Verbs{"get"}
}

func subresourceKind(res registry.Resource, sub string) (group, version, kind string) {
	switch sub {
	case "scale":
		return "autoscaling", "v1", "Scale"
	case "binding":
		return "", "v1", "Binding"
	case "eviction":
		return "policy", "v1", "Eviction"
	case "token":
		return "authentication.k8s.io", "v1", "TokenRequest"
	case "log", "exec", "attach", "portforward", "proxy":
		return "", "", map[string]string{"log": "Pod", "exec": "PodExecOptions", "attach": "PodAttachOptions", "portforward": "PodPortForwardOptions", "proxy": res.Kind + "ProxyOptions"}[sub]
	}
	return "", "", res.Kind
}

func storageVersionHash(res registry.Resource) string {
	sum := sha256.Sum256([]byte(res.Group + "/" + res.Version + "/" + res.Kind))
	return hex.EncodeToString(sum[:])[:11]
}

// groupOrder puts the core group first and keeps upstream's rough order
// for the others.
var groupOrder = []string{"", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io", "networking.k8s.io", "policy", "rbac.authorization.k8s.io", "storage.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "node.k8s.io", "discovery.k8s.io", "flowcontrol.apiserver.k8s.io"}

func groupRank(g string) int {
	for i, x := range groupOrder {
		if x == g {
			return i
		}
	}
	return len(groupOrder)
}

func newDiscovery(resources []registry.Resource, serverAddress string) *discovery {
	d := &discovery{
		groupByName: map[string]*metav1.APIGroup{},
		resources:   map[schema.GroupVersion]*metav1.APIResourceList{},
		aggregated:  map[bool]*apidiscoveryv2.APIGroupDiscoveryList{},
	}
	cidrs := []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: serverAddress}}
	d.legacy = &metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}, ServerAddressByClientCIDRs: cidrs}

	// Versions per group, in order of preference (v2 before v1 etc.).
	versions := map[string][]string{}
	for _, r := range resources {
		gv := r.GroupVersion()
		if _, ok := d.resources[gv]; !ok {
			d.resources[gv] = &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
			versions[r.Group] = append(versions[r.Group], r.Version)
		}
		list := d.resources[gv]
		ar := metav1.APIResource{
			Name: r.Resource, SingularName: r.Singular, Namespaced: r.Namespaced, Kind: r.Kind,
			Verbs: allVerbs, ShortNames: r.ShortNames, Categories: r.Categories, StorageVersionHash: storageVersionHash(r),
		}
		if r.CreateOnly {
			ar.Verbs, ar.StorageVersionHash = metav1.Verbs{"create"}, ""
		}
		list.APIResources = append(list.APIResources, ar)
		for _, sub := range r.Subresources {
			g, v, k := subresourceKind(r, sub)
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: r.Resource + "/" + sub, Namespaced: r.Namespaced, Kind: k, Group: g, Version: v, Verbs: subresourceVerbs(sub),
			})
		}
	}
	names := make([]string, 0, len(versions))
	for g := range versions {
		names = append(names, g)
	}
	sort.Slice(names, func(i, j int) bool {
		if groupRank(names[i]) != groupRank(names[j]) {
			return groupRank(names[i]) < groupRank(names[j])
		}
		return names[i] < names[j]
	})
	d.groups = &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, g := range names {
		vs := versions[g]
		sort.Slice(vs, func(i, j int) bool { return versionNewer(vs[i], vs[j]) })
		if g == "" {
			continue
		}
		ag := metav1.APIGroup{TypeMeta: metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}, Name: g, ServerAddressByClientCIDRs: cidrs}
		for _, v := range vs {
			ag.Versions = append(ag.Versions, metav1.GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v})
		}
		ag.PreferredVersion = ag.Versions[0]
		d.groups.Groups = append(d.groups.Groups, ag)
		d.groupByName[g] = &d.groups.Groups[len(d.groups.Groups)-1]
	}
	d.aggregated[true] = d.buildAggregated(names[:1], versions)
	d.aggregated[false] = d.buildAggregated(names[1:], versions)
	return d
}

// versionNewer orders Kubernetes versions: v2 > v1 > v1beta1 > v1alpha1.
func versionNewer(a, b string) bool {
	rank := func(v string) (int, int, int) {
		major, stage, minor := 0, 3, 0
		rest := strings.TrimPrefix(v, "v")
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			major = major*10 + int(rest[i]-'0')
			i++
		}
		rest = rest[i:]
		switch {
		case strings.HasPrefix(rest, "beta"):
			stage, rest = 2, strings.TrimPrefix(rest, "beta")
		case strings.HasPrefix(rest, "alpha"):
			stage, rest = 1, strings.TrimPrefix(rest, "alpha")
		}
		for _, c := range rest {
			if c >= '0' && c <= '9' {
				minor = minor*10 + int(c-'0')
			}
		}
		return stage, major, minor
	}
	sa, ma, na := rank(a)
	sb, mb, nb := rank(b)
	if sa != sb {
		return sa > sb
	}
	if ma != mb {
		return ma > mb
	}
	return na > nb
}

func (d *discovery) buildAggregated(groups []string, versions map[string][]string) *apidiscoveryv2.APIGroupDiscoveryList {
	out := &apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"}}
	for _, g := range groups {
		gd := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g}}
		for _, v := range versions[g] {
			vd := apidiscoveryv2.APIVersionDiscovery{Version: v, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
			for _, r := range d.resources[schema.GroupVersion{Group: g, Version: v}].APIResources {
				if strings.Contains(r.Name, "/") {
					continue
				}
				scope := apidiscoveryv2.ScopeCluster
				if r.Namespaced {
					scope = apidiscoveryv2.ScopeNamespace
				}
				rd := apidiscoveryv2.APIResourceDiscovery{
					Resource: r.Name, ResponseKind: &metav1.GroupVersionKind{Group: g, Version: v, Kind: r.Kind},
					Scope: scope, SingularResource: r.SingularName, Verbs: r.Verbs, ShortNames: r.ShortNames, Categories: r.Categories,
				}
				for _, sr := range d.resources[schema.GroupVersion{Group: g, Version: v}].APIResources {
					if parent, sub, ok := strings.Cut(sr.Name, "/"); ok && parent == r.Name {
						kg, kv := sr.Group, sr.Version
						if kv == "" {
							kg, kv = g, v
						}
						rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{
							Subresource: sub, ResponseKind: &metav1.GroupVersionKind{Group: kg, Version: kv, Kind: sr.Kind}, Verbs: sr.Verbs,
						})
					}
				}
				vd.Resources = append(vd.Resources, rd)
			}
			gd.Versions = append(gd.Versions, vd)
		}
		out.Items = append(out.Items, gd)
	}
	return out
}

// wantsAggregated reports whether the client asked for aggregated
// discovery, returning the content type to answer with.
func wantsAggregated(r *http.Request) (string, bool) {
	for _, m := range parseAccept(r.Header.Get("Accept")) {
		if m.params["g"] == "apidiscovery.k8s.io" && m.params["v"] == "v2" && m.params["as"] == "APIGroupDiscoveryList" && m.mediaType == mediaJSON {
			return "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList", true
		}
	}
	return "", false
}
