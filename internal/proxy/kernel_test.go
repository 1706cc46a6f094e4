package proxy

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// kernelModes are the modes the kernel tests run in.
func kernelModes() []Mode { return []Mode{ModeNFTables, modeNFTablesTool, ModeIPTables} }

// TestKernelClusterIP programs a ClusterIP Service with two backends and
// one without endpoints into a fresh network namespace, then checks that
// the VIP balances over both backends, that the empty Service refuses
// connections at once, that removing an endpoint takes effect
// incrementally, and that cleanup leaves nothing behind.
func TestKernelClusterIP(t *testing.T) {
	for _, mode := range kernelModes() {
		t.Run(string(mode), func(t *testing.T) {
			ns := newTestNetns(t, mode, "10.244.0.2", "10.244.0.3", "10.244.0.9")
			ns.serve(t, "10.244.0.2:8080", "a")
			ns.serve(t, "10.244.0.3:8080", "b")
			ctx := context.Background()
			cmd := commander{netns: ns.name}
			ap := newApplier(mode, cmd)

			in := rules.Input{NodeName: "node-a", ClusterCIDR: "10.244.0.0/16", EndpointChains: mode == ModeIPTables}
			in.Services = append(in.Services, testService("web", "10.96.0.10"), testService("empty", "10.96.0.11"))
			in.Slices = append(in.Slices, testSlice("web", "10.244.0.2", "10.244.0.3"))
			var c rules.Computer
			first := c.Compute(in)
			if err := ap.apply(ctx, nil, first); err != nil {
				t.Fatal(err)
			}

			seen := ns.backends(t, "10.244.0.9", "10.96.0.10:80", 40)
			if seen["a"] == 0 || seen["b"] == 0 || seen["a"]+seen["b"] != 40 {
				t.Errorf("connections to the VIP reached %v, want both a and b", seen)
			}

			start := time.Now()
			_, err := ns.dial(t, "10.244.0.9", "10.96.0.11:80")
			if !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("Service without endpoints: got %v, want connection refused", err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("rejection took %v", took)
			}

			in.Slices = append(in.Slices[:0:0], testSlice("web", "10.244.0.2"))
			second := c.Compute(in)
			if err := ap.apply(ctx, first, second); err != nil {
				t.Fatal(err)
			}
			if seen := ns.backends(t, "10.244.0.9", "10.96.0.10:80", 20); seen["a"] != 20 {
				t.Errorf("after removing b, connections reached %v, want only a", seen)
			}

			if err := cleanup(ctx, mode, cmd); err != nil {
				t.Fatal(err)
			}
			assertClean(t, ns)
			if _, err := ns.dial(t, "10.244.0.9", "10.96.0.10:80"); err == nil {
				t.Error("VIP still answers after cleanup")
			}
		})
	}
}

// assertClean checks that neither an nftables table nor iptables chains
// of the proxy remain.
func assertClean(t *testing.T, ns *testNetns) {
	t.Helper()
	if out := ns.run(t, "nft", "list", "tables"); strings.Contains(out, rules.TableName) {
		t.Errorf("table left after cleanup:\n%s", out)
	}
	for _, table := range iptTableNames() {
		if out := ns.run(t, "iptables-save", "-t", table); strings.Contains(out, iptChainPrefix) {
			t.Errorf("iptables %s rules left after cleanup:\n%s", table, out)
		}
	}
}

// TestKernelIncrementalScript checks that after the first load the
// nftables applier sends only the difference: a no-op sync sends nothing
// and the table then equals a full load of the new rule set.
func TestKernelIncrementalScript(t *testing.T) {
	ns := newTestNetns(t, ModeNFTables)
	ctx := context.Background()
	cmd := commander{netns: ns.name}
	svcs, slices := genObjects(50, 3)
	var c rules.Computer
	first := c.Compute(rules.Input{NodeName: "node-a", Services: svcs, Slices: slices})
	ap := nftApplier{cmd: cmd}
	if err := ap.apply(ctx, nil, first); err != nil {
		t.Fatal(err)
	}
	slices[7] = testSlice("svc-7", "10.250.0.1")
	second := c.Compute(rules.Input{NodeName: "node-a", Services: svcs, Slices: slices})
	if n := strings.Count(rules.Diff(first, second).NFT(), "\n"); n == 0 || n > 40 {
		t.Errorf("incremental script has %d lines, want a few", n)
	}
	if err := ap.apply(ctx, first, second); err != nil {
		t.Fatal(err)
	}
	if err := ap.apply(ctx, second, second); err != nil {
		t.Fatal(err)
	}
	got := ns.run(t, "nft", "list", "table", "inet", rules.TableName)
	if !strings.Contains(got, "10.250.0.1") || strings.Contains(got, ipAt(10, 128, 7*3+1)+":8080") {
		t.Errorf("table does not reflect the change:\n%s", got)
	}
}

// TestKernelExternal checks the external paths of one LoadBalancer
// Service whose ingress IP is a node address, with an external IP and a
// node port, in every mode: each path reaches the ready endpoint and not
// the terminating one; once none is ready, traffic falls back to the
// terminating endpoint that still serves (an incremental change).
func TestKernelExternal(t *testing.T) {
	const nodeIP = "10.244.0.9"
	paths := []string{"10.96.0.20:80", "198.51.100.7:80", nodeIP + ":30080", nodeIP + ":80"}
	for _, mode := range kernelModes() {
		t.Run(string(mode), func(t *testing.T) {
			ns := newTestNetns(t, mode, "10.244.0.2", "10.244.0.3", nodeIP)
			ns.run(t, "ip", "route", "add", "198.51.100.0/24", "dev", "pods0")
			ns.serve(t, "10.244.0.2:8080", "a")
			ns.serve(t, "10.244.0.3:8080", "b")
			ctx := context.Background()
			ap := newApplier(mode, commander{netns: ns.name})

			svc := testService("ext", "10.96.0.20")
			svc.Spec.Type = corev1.ServiceTypeLoadBalancer
			svc.Spec.ExternalIPs = []string{"198.51.100.7"}
			svc.Spec.Ports[0].NodePort = 30080
			svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: nodeIP}}
			slice := testSlice("ext", "10.244.0.2", "10.244.0.3")
			slice.Endpoints[1].Conditions = discoveryv1.EndpointConditions{
				Ready: ptr.To(false), Serving: ptr.To(true), Terminating: ptr.To(true)}
			in := rules.Input{NodeName: "node-a", NodeIPs: []net.IP{net.ParseIP(nodeIP)}, ClusterCIDR: "10.244.0.0/16",
				EndpointChains: mode == ModeIPTables, Services: []*corev1.Service{svc}, Slices: []*discoveryv1.EndpointSlice{slice}}
			var c rules.Computer
			first := c.Compute(in)
			if err := ap.apply(ctx, nil, first); err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				if seen := ns.backends(t, nodeIP, p, 6); seen["a"] != 6 {
					t.Errorf("%s reached %v, want only the ready endpoint a", p, seen)
				}
			}

			slice = slice.DeepCopy()
			slice.Endpoints[0].Conditions = discoveryv1.EndpointConditions{Ready: ptr.To(false), Serving: ptr.To(false)}
			in.Slices = []*discoveryv1.EndpointSlice{slice}
			second := c.Compute(in)
			if err := ap.apply(ctx, first, second); err != nil {
				t.Fatal(err)
			}
			for _, p := range paths {
				if seen := ns.backends(t, nodeIP, p, 6); seen["b"] != 6 {
					t.Errorf("%s reached %v, want only the terminating endpoint b", p, seen)
				}
			}
		})
	}
}
