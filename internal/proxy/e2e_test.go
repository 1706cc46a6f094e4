package proxy

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/server/servertest"
)

// TestProxyAgainstServer runs the proxy against a real control plane,
// programming a network namespace: a Service and its EndpointSlice
// created through the API become rules that carry connections, and an
// endpoint removed through the API drops out of them.
func TestProxyAgainstServer(t *testing.T) {
	ns := newTestNetns(t, ModeNFTables, "10.244.0.2", "10.244.0.3", "10.244.0.9")
	ns.serve(t, "10.244.0.2:8080", "a")
	ns.serve(t, "10.244.0.3:8080", "b")
	srv := servertest.Start(t)
	client := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	svc, err := client.CoreV1().Services("default").Create(ctx, testService("web", "10.96.0.20"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.96.0.20" {
		t.Fatalf("cluster IP %q", svc.Spec.ClusterIP)
	}
	slice, err := client.DiscoveryV1().EndpointSlices("default").Create(ctx, testSlice("web", "10.244.0.2", "10.244.0.3"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	p, err := New(Config{Client: client, NodeName: "node-a", ClusterCIDR: "10.244.0.0/16",
		Mode: ModeNFTables, MinSyncPeriod: 10 * time.Millisecond, NetworkNamespace: ns.name})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { done <- p.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	select {
	case <-p.Ready():
	case err := <-done:
		t.Fatalf("Run ended before the first sync: %v", err)
	case <-ctx.Done():
		t.Fatal("no first sync")
	}

	waitTable(t, ns, `10.96.0.20 . tcp . 80 comment "default/web:http" : goto service-default/web/tcp/http`)
	if seen := ns.backends(t, "10.244.0.9", "10.96.0.20:80", 30); seen["a"] == 0 || seen["b"] == 0 {
		t.Errorf("connections reached %v, want a and b", seen)
	}

	slice.Endpoints = slice.Endpoints[:1]
	if _, err := client.DiscoveryV1().EndpointSlices("default").Update(ctx, slice, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	// one endpoint left: the service chain DNATs to it without numgen
	waitTable(t, ns, "dnat ip to 10.244.0.2:8080")
	if seen := ns.backends(t, "10.244.0.9", "10.96.0.20:80", 10); seen["a"] != 10 {
		t.Errorf("after the update connections reached %v, want only a", seen)
	}
	if p.Mode() != ModeNFTables {
		t.Errorf("mode %q", p.Mode())
	}
}

// waitTable polls the kernel until the proxy's table contains want (or,
// with a leading "!", no longer contains it): the kernel offers no watch.
func waitTable(t *testing.T, ns *testNetns, want string) {
	t.Helper()
	absent := strings.HasPrefix(want, "!")
	want = strings.TrimPrefix(want, "!")
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := ns.run(t, "nft", "list", "table", "inet", "skiff-proxy")
		if strings.Contains(got, want) != absent {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("table after 10s (want %q present=%v):\n%s", want, !absent, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
