package placement

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// filterCase runs one filter on one node built from script-style arguments.
type filterCase struct {
	name string
	node string // "name key=value ..." as in scripts
	pods []string
	pod  string
	want string // "" for fits, else the reasons joined by "; "
}

func args(s string) (string, map[string]string) {
	f := strings.Fields(s)
	return f[0], parseArgs(f[1:])
}

func runFilterCases(t *testing.T, check func(*cycle, *NodeInfo) []string, cases []filterCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name, na := args(tc.node)
			snap := NewSnapshot([]*corev1.Node{makeNode(t, name, na)}, nil)
			for _, ps := range tc.pods {
				pn, pa := args(ps)
				pa["node"] = name
				snap.AddPod(makePod(t, pn, pa))
			}
			pn, pa := args(tc.pod)
			c, msg := newCycle(makePod(t, pn, pa), snap, &Config{})
			if msg != "" {
				t.Fatal(msg)
			}
			got := strings.Join(check(c, snap.Nodes[0]), "; ")
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckUnschedulable(t *testing.T) {
	runFilterCases(t, checkUnschedulable, []filterCase{
		{name: "schedulable", node: "n", pod: "p"},
		{name: "cordoned", node: "n unschedulable", pod: "p", want: ReasonUnschedulable},
		{name: "tolerated", node: "n unschedulable", pod: "p tol=node.kubernetes.io/unschedulable:NoSchedule"},
		{name: "tolerate all", node: "n unschedulable", pod: "p tol=*"},
	})
}

func TestCheckReady(t *testing.T) {
	runFilterCases(t, checkReady, []filterCase{
		{name: "ready", node: "n", pod: "p"},
		{name: "not ready", node: "n notready", pod: "p", want: "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
		{name: "unknown", node: "n unknown", pod: "p", want: "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"},
		{name: "NoExecute toleration does not cover NoSchedule", node: "n notready", pod: "p tol=node.kubernetes.io/not-ready:NoExecute",
			want: "node(s) had untolerated taint {node.kubernetes.io/not-ready: }"},
		{name: "tolerated with any effect", node: "n notready", pod: "p tol=node.kubernetes.io/not-ready:"},
	})
}

func TestCheckNodeName(t *testing.T) {
	for _, tc := range []struct{ nodeName, want string }{{"", ""}, {"n", ""}, {"m", ReasonNodeName}} {
		snap := NewSnapshot([]*corev1.Node{makeNode(t, "n", nil)}, nil)
		p := makePod(t, "p", map[string]string{})
		p.Spec.NodeName = tc.nodeName
		c, _ := newCycle(p, snap, &Config{})
		if got := strings.Join(checkNodeName(c, snap.Nodes[0]), ""); got != tc.want {
			t.Errorf("nodeName %q: got %q, want %q", tc.nodeName, got, tc.want)
		}
	}
}

func TestCheckTaints(t *testing.T) {
	runFilterCases(t, checkTaints, []filterCase{
		{name: "no taints", node: "n", pod: "p"},
		{name: "NoSchedule", node: "n taints=k=v:NoSchedule", pod: "p", want: "node(s) had untolerated taint {k: v}"},
		{name: "NoExecute", node: "n taints=k=v:NoExecute", pod: "p", want: "node(s) had untolerated taint {k: v}"},
		{name: "PreferNoSchedule ignored", node: "n taints=k=v:PreferNoSchedule", pod: "p"},
		{name: "Equal toleration", node: "n taints=k=v:NoSchedule", pod: "p tol=k=v:NoSchedule"},
		{name: "wrong value", node: "n taints=k=v:NoSchedule", pod: "p tol=k=w:NoSchedule", want: "node(s) had untolerated taint {k: v}"},
		{name: "Exists toleration", node: "n taints=k=v:NoSchedule", pod: "p tol=k:NoSchedule"},
		{name: "wrong effect", node: "n taints=k=v:NoExecute", pod: "p tol=k:NoSchedule", want: "node(s) had untolerated taint {k: v}"},
		{name: "first untolerated reported", node: "n taints=a=1:NoSchedule,b=2:NoSchedule", pod: "p tol=a:", want: "node(s) had untolerated taint {b: 2}"},
	})
}

func TestTolerationOperators(t *testing.T) {
	taint := &corev1.Taint{Key: "k", Value: "5", Effect: corev1.TaintEffectNoSchedule}
	tests := []struct {
		tol  corev1.Toleration
		want bool
	}{
		{corev1.Toleration{Key: "k", Operator: "Gt", Value: "4"}, true},
		{corev1.Toleration{Key: "k", Operator: "Gt", Value: "5"}, false},
		{corev1.Toleration{Key: "k", Operator: "Lt", Value: "6"}, true},
		{corev1.Toleration{Key: "k", Operator: "Lt", Value: "x"}, false},
		{corev1.Toleration{Key: "k", Value: "5"}, true},
		{corev1.Toleration{Operator: corev1.TolerationOpExists}, true},
		{corev1.Toleration{Key: "j", Operator: corev1.TolerationOpExists}, false},
	}
	for _, tt := range tests {
		if got := tolerates(&tt.tol, taint); got != tt.want {
			t.Errorf("%+v: got %v, want %v", tt.tol, got, tt.want)
		}
	}
}

func TestCheckNodeAffinity(t *testing.T) {
	runFilterCases(t, checkNodeAffinity, []filterCase{
		{name: "no selector", node: "n", pod: "p"},
		{name: "selector matches", node: "n labels=disk=ssd", pod: "p selector=disk=ssd"},
		{name: "selector value differs", node: "n labels=disk=hdd", pod: "p selector=disk=ssd", want: ReasonNodeAffinity},
		{name: "selector label missing", node: "n", pod: "p selector=disk=ssd", want: ReasonNodeAffinity},
	})
}

func TestRequirementMatches(t *testing.T) {
	r := func(op corev1.NodeSelectorOperator, vals ...string) *corev1.NodeSelectorRequirement {
		return &corev1.NodeSelectorRequirement{Key: "k", Operator: op, Values: vals}
	}
	tests := []struct {
		name    string
		req     *corev1.NodeSelectorRequirement
		v       string
		present bool
		want    bool
	}{
		{"In hit", r(corev1.NodeSelectorOpIn, "a", "b"), "b", true, true},
		{"In miss", r(corev1.NodeSelectorOpIn, "a"), "b", true, false},
		{"In absent", r(corev1.NodeSelectorOpIn, "a"), "", false, false},
		{"NotIn hit", r(corev1.NodeSelectorOpNotIn, "a"), "a", true, false},
		{"NotIn absent", r(corev1.NodeSelectorOpNotIn, "a"), "", false, true},
		{"Exists", r(corev1.NodeSelectorOpExists), "", true, true},
		{"Exists absent", r(corev1.NodeSelectorOpExists), "", false, false},
		{"DoesNotExist", r(corev1.NodeSelectorOpDoesNotExist), "", false, true},
		{"DoesNotExist present", r(corev1.NodeSelectorOpDoesNotExist), "x", true, false},
		{"Gt", r(corev1.NodeSelectorOpGt, "3"), "4", true, true},
		{"Gt equal", r(corev1.NodeSelectorOpGt, "4"), "4", true, false},
		{"Lt", r(corev1.NodeSelectorOpLt, "5"), "4", true, true},
		{"Lt not a number", r(corev1.NodeSelectorOpLt, "5"), "x", true, false},
	}
	for _, tt := range tests {
		if got := requirementMatches(tt.req, tt.v, tt.present); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTermMatchesFieldsAndEmpty(t *testing.T) {
	n := makeNode(t, "n1", map[string]string{"labels": "zone=a"})
	tests := []struct {
		name string
		term corev1.NodeSelectorTerm
		want bool
	}{
		{"empty term matches nothing", corev1.NodeSelectorTerm{}, false},
		{"metadata.name In", corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}}}, true},
		{"metadata.name NotIn", corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpNotIn, Values: []string{"n1"}}}}, false},
		{"unknown field", corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{Key: "spec.x", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}}}, false},
	}
	for _, tt := range tests {
		if got := termMatches(&tt.term, n); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestCheckHostPorts(t *testing.T) {
	runFilterCases(t, checkHostPorts, []filterCase{
		{name: "free", node: "n", pods: []string{"a ports=80"}, pod: "p ports=81"},
		{name: "same port", node: "n", pods: []string{"a ports=80"}, pod: "p ports=80", want: ReasonHostPorts},
		{name: "other protocol", node: "n", pods: []string{"a ports=80/UDP"}, pod: "p ports=80"},
		{name: "wildcard vs address", node: "n", pods: []string{"a ports=80@10.0.0.1"}, pod: "p ports=80", want: ReasonHostPorts},
		{name: "two addresses", node: "n", pods: []string{"a ports=80@10.0.0.1"}, pod: "p ports=80@10.0.0.2"},
	})
}

func TestCheckResources(t *testing.T) {
	runFilterCases(t, checkResources, []filterCase{
		{name: "fits", node: "n cpu=2 mem=2Gi", pods: []string{"a cpu=1 mem=1Gi"}, pod: "p cpu=1 mem=1Gi"},
		{name: "cpu", node: "n cpu=2", pods: []string{"a cpu=1500m"}, pod: "p cpu=1", want: "Insufficient cpu"},
		{name: "memory and cpu", node: "n cpu=1 mem=1Gi", pod: "p cpu=2 mem=2Gi", want: "Insufficient cpu; Insufficient memory"},
		{name: "zero request never insufficient", node: "n cpu=1", pods: []string{"a cpu=2"}, pod: "p"},
		{name: "pods count", node: "n pods=1", pods: []string{"a"}, pod: "p", want: ReasonTooManyPods},
		{name: "ephemeral storage", node: "n storage=1Gi", pod: "p storage=2Gi", want: "Insufficient ephemeral-storage"},
		{name: "extended resource missing on node", node: "n", pod: "p example.com/gpu=1", want: "Insufficient example.com/gpu"},
		{name: "extended resource used up", node: "n example.com/gpu=2", pods: []string{"a example.com/gpu=2"}, pod: "p example.com/gpu=1", want: "Insufficient example.com/gpu"},
		{name: "terminal pods do not count", node: "n cpu=1", pods: []string{"a cpu=1 phase=Succeeded"}, pod: "p cpu=1"},
	})
}

func TestFitErrorMessage(t *testing.T) {
	e := &FitError{NumNodes: 5, Reasons: map[string][]string{
		"n1": {"Insufficient cpu"}, "n2": {"Insufficient cpu"}, "n3": {"Insufficient cpu", "Insufficient memory"},
		"n4": {"node(s) had untolerated taint {k: v}"}, "n5": {"node(s) had untolerated taint {k: v}"},
	}}
	want := "0/5 nodes are available: 1 Insufficient memory, 2 node(s) had untolerated taint {k: v}, 3 Insufficient cpu."
	if got := e.Error(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	pre := &FitError{NumNodes: 3, PreFilterMsg: `persistentvolumeclaim "x" not found`}
	if got := pre.Error(); got != `0/3 nodes are available: persistentvolumeclaim "x" not found.` {
		t.Errorf("got %q", got)
	}
}
