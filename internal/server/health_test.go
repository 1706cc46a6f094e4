package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"
)

func TestHealthVersionMetrics(t *testing.T) {
	anon := rest.AnonymousClientConfig(fixture.cfg)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/readyz?verbose", []string{"[+]ping ok", "[+]etcd ok", "readyz check passed"}},
		{"/livez?verbose", []string{"[+]ping ok", "[+]etcd ok", "livez check passed"}},
		{"/livez", []string{"ok"}},
		{"/healthz", []string{"ok"}},
		{"/readyz/etcd", []string{"ok"}},
	} {
		// Health is public, as upstream's system:public-info-viewer allows.
		r := rawWith(t, anon, "GET", tc.path, "", nil)
		if r.code != 200 {
			t.Errorf("%s: %d %s", tc.path, r.code, r.body)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(string(r.body), w) {
				t.Errorf("%s lacks %q:\n%s", tc.path, w, r.body)
			}
		}
	}
	if r := rawWith(t, anon, "GET", "/readyz/nonexistent", "", nil); r.code != 404 && r.code != 500 {
		t.Errorf("/readyz/nonexistent: %d", r.code)
	}

	r := rawWith(t, anon, "GET", "/version", "", nil)
	var v version.Info
	if err := json.Unmarshal(r.body, &v); err != nil || r.code != 200 || v.Major != "1" || !strings.HasPrefix(v.GitVersion, "v1.") {
		t.Errorf("/version: %d %v %+v", r.code, err, v)
	}
	info, err := fixture.cs.Discovery().ServerVersion()
	if err != nil || info.GitVersion != v.GitVersion {
		t.Errorf("client-go ServerVersion: %v %+v", err, info)
	}

	// The API itself is not public.
	if r := rawWith(t, anon, "GET", "/api/v1/namespaces", "", nil); r.code != 401 {
		t.Errorf("anonymous list: %d, want 401", r.code)
	}

	// Make sure at least one counted request exists, then scrape.
	raw(t, "GET", "/api/v1/namespaces/default", "", nil)
	r = raw(t, "GET", "/metrics", "", nil)
	body := string(r.body)
	for _, w := range []string{"apiserver_request_total{", `verb="GET"`, `resource="namespaces"`, `code="200"`, "apiserver_request_duration_seconds_bucket"} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
}

func TestDiscovery(t *testing.T) {
	groups, resources, err := fixture.cs.Discovery().ServerGroupsAndResources()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, g := range groups {
		for _, v := range g.Versions {
			names[v.GroupVersion] = true
		}
	}
	for _, gv := range []string{"v1", "apps/v1", "batch/v1", "autoscaling/v2", "autoscaling/v1", "coordination.k8s.io/v1",
		"events.k8s.io/v1", "discovery.k8s.io/v1", "policy/v1", "scheduling.k8s.io/v1", "rbac.authorization.k8s.io/v1"} {
		if !names[gv] {
			t.Errorf("discovery lacks %s", gv)
		}
	}
	found := map[string]bool{}
	for _, l := range resources {
		for _, r := range l.APIResources {
			found[l.GroupVersion+"/"+r.Name] = true
		}
	}
	for _, r := range []string{"v1/pods", "v1/pods/status", "v1/pods/binding", "v1/pods/eviction", "v1/pods/log",
		"apps/v1/deployments/scale", "v1/namespaces/finalize", "v1/nodes/status", "v1/services/status"} {
		if !found[r] {
			t.Errorf("discovery lacks %s", r)
		}
	}
}
