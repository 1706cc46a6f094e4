package proxy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// TestTranslateIPTables checks the translation of the constructs the
// model uses, rule by rule.
func TestTranslateIPTables(t *testing.T) {
	web := testService("web", "10.96.0.10")
	sticky := testService("sticky", "10.96.0.12")
	sticky.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	sticky.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](60)}}
	local := testService("local", "10.96.0.13")
	local.Spec.Type = corev1.ServiceTypeNodePort
	local.Spec.Ports[0].NodePort = 30080
	local.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	localSlice := testSlice("local", "10.244.9.9")
	localSlice.Endpoints[0].NodeName = ptr.To("node-b")
	in := rules.Input{
		NodeName: "node-a", ClusterCIDR: "10.244.0.0/16", EndpointChains: true,
		Services: []*corev1.Service{web, testService("empty", "10.96.0.11"), sticky, local},
		Slices:   append([]*discoveryv1.EndpointSlice{}, testSlice("web", "10.244.0.2", "10.244.0.3", "10.244.0.4"), testSlice("sticky", "10.244.0.5"), localSlice),
	}
	tr := translateIPTables(rules.Compute(in))
	if len(tr.warnings) > 0 {
		t.Errorf("warnings: %v", tr.warnings)
	}
	nat, filter := allRules(tr.tables["nat"]), allRules(tr.tables["filter"])
	svcChain := iptChainName("service-default/web/tcp/http")
	ep := func(ip string) string { return iptChainName("endpoint-default/web/tcp/http__" + ip + "/8080") }
	tests := []struct {
		name, table, text string
		want              bool
	}{
		{"VIP lookup", nat, `-A SKIFF-SERVICES -d 10.96.0.10 -p tcp -m tcp --dport 80 -m comment --comment "default/web:http" -g ` + svcChain, true},
		{"first of three", nat, "-A " + svcChain + " -m statistic --mode random --probability 0.3333333333 -g " + ep("10.244.0.2"), true},
		{"second of three", nat, "-A " + svcChain + " -m statistic --mode random --probability 0.5000000000 -g " + ep("10.244.0.3"), true},
		{"last of three", nat, "-A " + svcChain + " -g " + ep("10.244.0.4"), true},
		{"masquerade outsiders", nat, `-A ` + svcChain + ` -m comment --comment "masquerade clients outside the pod network" -d 10.96.0.10 ! -s 10.244.0.0/16 -j SKIFF-MARK-FOR-MASQUERADE`, true},
		{"dnat", nat, "-A " + ep("10.244.0.2") + " -p tcp -j DNAT --to-destination 10.244.0.2:8080", true},
		{"affinity check", nat, "-m recent --name " + iptRecentName("affinity-default/sticky/tcp/http__10.244.0.5/8080") + " --rcheck --seconds 60 --reap --rsource", true},
		{"affinity set", nat, "-m recent --name " + iptRecentName("affinity-default/sticky/tcp/http__10.244.0.5/8080") + " --set --rsource", true},
		{"drop in nat becomes a mark", nat, `-m comment --comment "no local endpoints" -j MARK --or-mark 0x8000`, true},
		{"no DROP in nat", nat, "-j DROP", false},
		{"masquerade", nat, "-A SKIFF-MASQUERADING -j MASQUERADE --random-fully", true},
		{"mark check", nat, "-A SKIFF-MASQUERADING -m mark ! --mark 0x4000/0x4000 -j RETURN", true},
		{"reject empty", filter, `-A SKIFF-ENDPOINTS-CHECK -d 10.96.0.11 -p tcp -m tcp --dport 80 -m comment --comment "default/empty:http" -g SKIFF-REJECT-CHAIN`, true},
		{"tcp reset", filter, "-A SKIFF-REJECT-CHAIN -p tcp -j REJECT --reject-with tcp-reset", true},
		{"marked drop", filter, "-A SKIFF-FILTER-FORWARD -m mark --mark 0x8000/0x8000 -j DROP", true},
		{"new connections checked", filter, "-A SKIFF-FILTER-OUTPUT -m conntrack --ctstate NEW -j SKIFF-ENDPOINTS-CHECK", true},
		{"no DNAT in filter", filter, "DNAT", false},
	}
	for _, tt := range tests {
		if got := strings.Contains(tt.table, tt.text); got != tt.want {
			t.Errorf("%s: contains %q = %v, want %v", tt.name, tt.text, got, tt.want)
		}
	}
	if got := tr.tables["nat"].hooks; got["PREROUTING"] != "SKIFF-NAT-PREROUTING" || got["POSTROUTING"] != "SKIFF-NAT-POSTROUTING" {
		t.Errorf("nat hooks = %v", got)
	}
	for _, tb := range tr.tables {
		for _, c := range tb.chains {
			if len(c) > 28 {
				t.Errorf("chain name %q is longer than 28 characters", c)
			}
		}
	}
}

// allRules joins a table's rules, chain by chain.
func allRules(t *iptTable) string {
	var lines []string
	for _, c := range t.chains {
		lines = append(lines, t.rules[c]...)
	}
	return strings.Join(lines, "\n")
}

// TestIPTRestoreScript checks that only changed and new chains are
// rewritten, stale ones flushed and deleted, and that a chain of unknown
// content (found in the kernel) is rewritten.
func TestIPTRestoreScript(t *testing.T) {
	table := func(rules map[string][]string, chains ...string) *iptTable {
		return &iptTable{chains: chains, rules: rules}
	}
	prev := &iptRules{tables: map[string]*iptTable{
		"nat": table(map[string][]string{"SKIFF-A": {"-A SKIFF-A -j SKIFF-B"}, "SKIFF-C": {"-A SKIFF-C -j RETURN"}},
			"SKIFF-A", "SKIFF-B", "SKIFF-C", "SKIFF-OLD"),
		"filter": table(nil, "SKIFF-F"),
	}}
	next := &iptRules{tables: map[string]*iptTable{
		"nat": table(map[string][]string{"SKIFF-A": {"-A SKIFF-A -j SKIFF-B"}, "SKIFF-C": {"-A SKIFF-C -j SKIFF-D"}},
			"SKIFF-A", "SKIFF-B", "SKIFF-C", "SKIFF-D"),
	}}
	want := `*nat
:SKIFF-C - [0:0]
:SKIFF-D - [0:0]
:SKIFF-OLD - [0:0]
-A SKIFF-C -j SKIFF-D
-X SKIFF-OLD
COMMIT
*filter
:SKIFF-F - [0:0]
-X SKIFF-F
COMMIT
`
	if got := iptRestoreScript(prev, next); got != want {
		t.Errorf("script:\n%s\nwant:\n%s", got, want)
	}
	if got := iptRestoreScript(next, next); got != "" {
		t.Errorf("no change gave:\n%s", got)
	}
	unknown := kernelChains(map[string][]string{"nat": {"SKIFF-A"}})
	if got := iptRestoreScript(unknown, next); !strings.Contains(got, ":SKIFF-A - [0:0]\n") {
		t.Errorf("chain of unknown content not rewritten:\n%s", got)
	}
}
