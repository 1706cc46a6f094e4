package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"os/exec"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// TestKernelAffinity checks ClientIP session affinity with real
// connections in every mode: each client sticks to one endpoint; when
// that endpoint goes away (an incremental change), the client moves to
// the one left.
func TestKernelAffinity(t *testing.T) {
	clients := []string{"10.244.0.7", "10.244.0.8", "10.244.0.9"}
	for _, mode := range kernelModes() {
		t.Run(string(mode), func(t *testing.T) {
			ns := newTestNetns(t, mode, append([]string{"10.244.0.2", "10.244.0.3"}, clients...)...)
			ns.serve(t, "10.244.0.2:8080", "10.244.0.2")
			ns.serve(t, "10.244.0.3:8080", "10.244.0.3")
			ctx := context.Background()
			ap := newApplier(mode, commander{netns: ns.name})

			svc := testService("sticky", "10.96.0.30")
			svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			svc.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](600)}}
			in := rules.Input{NodeName: "node-a", ClusterCIDR: "10.244.0.0/16", EndpointChains: mode == ModeIPTables,
				Services: []*corev1.Service{svc}}
			in.Slices = append(in.Slices, testSlice("sticky", "10.244.0.2", "10.244.0.3"))
			var c rules.Computer
			first := c.Compute(in)
			if err := ap.apply(ctx, nil, first); err != nil {
				t.Fatal(err)
			}
			stuck := map[string]string{}
			for _, client := range clients {
				seen := ns.backends(t, client, "10.96.0.30:80", 12)
				if len(seen) != 1 {
					t.Fatalf("client %s reached %v, want one endpoint", client, seen)
				}
				for ep := range seen {
					stuck[client] = ep
				}
			}

			// Remove the endpoint the first client sticks to.
			gone := stuck[clients[0]]
			left := "10.244.0.2"
			if gone == left {
				left = "10.244.0.3"
			}
			in.Slices = append(in.Slices[:0:0], testSlice("sticky", left))
			second := c.Compute(in)
			if err := ap.apply(ctx, first, second); err != nil {
				t.Fatal(err)
			}
			if seen := ns.backends(t, clients[0], "10.96.0.30:80", 6); seen[left] != 6 {
				t.Errorf("after removing %s, client reached %v, want only %s", gone, seen, left)
			}
		})
	}
}

// TestKernelHairpin checks that a pod reaching itself through its
// Service's cluster IP gets an answer, in every mode: the node forwards
// the connection back to the pod with the source masqueraded to the
// node's address (without it the pod would drop a packet from its own
// address arriving from outside).
func TestKernelHairpin(t *testing.T) {
	const nodeIP, podIP = "10.244.0.1", "10.244.0.2"
	for _, mode := range kernelModes() {
		t.Run(string(mode), func(t *testing.T) {
			node := newTestNetns(t, mode, nodeIP)
			node.run(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
			pod := newPodNetns(t, node, podIP, nodeIP)
			pod.serveRemote(t, podIP+":8080")
			ctx := context.Background()
			ap := newApplier(mode, commander{netns: node.name})

			in := rules.Input{NodeName: "node-a", ClusterCIDR: "10.244.0.0/16", EndpointChains: mode == ModeIPTables,
				Services: []*corev1.Service{testService("self", "10.96.0.40")}}
			in.Slices = append(in.Slices, testSlice("self", podIP))
			var c rules.Computer
			if err := ap.apply(ctx, nil, c.Compute(in)); err != nil {
				t.Fatal(err)
			}
			got, err := pod.dial(t, podIP, "10.96.0.40:80")
			if err != nil {
				t.Fatalf("pod reaching itself through its Service: %v", err)
			}
			if got != nodeIP {
				t.Errorf("pod saw its own connection come from %q, want the node address %s", got, nodeIP)
			}
		})
	}
}

// newPodNetns makes a second namespace, the pod, takes the far end of
// node's veth pair (pods1) into it with addr, and routes everything
// through gateway. It is removed when the test ends.
func newPodNetns(t *testing.T, node *testNetns, addr, gateway string) *testNetns {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	pod := &testNetns{name: "skiff-test-pod-" + hex.EncodeToString(b)}
	if out, err := exec.Command("ip", "netns", "add", pod.name).CombinedOutput(); err != nil {
		t.Fatalf("creating pod namespace: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", pod.name).CombinedOutput(); err != nil {
			t.Errorf("deleting network namespace: %v: %s", err, out)
		}
	})
	node.run(t, "ip", "link", "set", "pods1", "netns", pod.name)
	pod.run(t, "ip", "link", "set", "lo", "up")
	pod.run(t, "ip", "addr", "add", addr+"/24", "dev", "pods1")
	pod.run(t, "ip", "link", "set", "pods1", "up")
	pod.run(t, "ip", "route", "add", "default", "via", gateway)
	return pod
}

// serveRemote starts a TCP server in the namespace at addr that writes
// each client's address (as the server sees it) and closes the
// connection.
func (n *testNetns) serveRemote(t *testing.T, addr string) {
	t.Helper()
	var l net.Listener
	var err error
	n.do(t, func() { l, err = net.Listen("tcp", addr) })
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() { // ends when the listener closes
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			host, _, _ := net.SplitHostPort(c.RemoteAddr().String())
			_, _ = io.WriteString(c, host)
			c.Close()
		}
	}()
}
