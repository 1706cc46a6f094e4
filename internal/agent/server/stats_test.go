package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/agent/stats"
	"github.com/skiffkube/skiff/internal/auth/pki"
	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/fake"
)

// serveStats starts an endpoint with src as its stats and returns its
// URL and a client per user.
func serveStats(t *testing.T, src StatsSource, users map[string][]string) (string, map[string]*http.Client) {
	t.Helper()
	now := time.Now()
	ca, err := pki.EnsureCA(t.TempDir(), "test-ca", now)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := SelfSignedCertificate([]string{"127.0.0.1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Pods: fakePods{}, Stats: src, Certificate: cert, ClientCAs: ca.Pool()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	clients := map[string]*http.Client{}
	for user, groups := range users {
		certPEM, keyPEM, err := ca.IssueClientCert(user, groups, time.Hour, now)
		if err != nil {
			t.Fatal(err)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		roots := x509.NewCertPool()
		roots.AddCert(cert.Leaf)
		clients[user] = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots}}}
	}
	return "https://" + l.Addr().String(), clients
}

func TestEndpointStatsSummary(t *testing.T) {
	ctx := context.Background()
	rt := fake.New(fake.Config{})
	sbCfg := &runtime.PodSandboxConfig{Metadata: runtime.PodSandboxMetadata{Name: "web", Namespace: "default", UID: "u1"},
		Annotations: map[string]string{fake.AnnotationCPU: "100m", fake.AnnotationMemory: "20Mi"}}
	sb, err := rt.RunPodSandbox(ctx, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: "app"}}, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	col, err := stats.New(stats.Config{NodeName: "n1", Runtime: rt})
	if err != nil {
		t.Fatal(err)
	}
	base, clients := serveStats(t, col, map[string][]string{APIServerUser: nil, "system:node:other": {"system:nodes"}})

	code, body := get(t, clients[APIServerUser], base+"/stats/summary")
	if code != http.StatusOK {
		t.Fatalf("GET /stats/summary: %d %s", code, body)
	}
	var sum stats.Summary
	if err := json.Unmarshal([]byte(body), &sum); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	if sum.Node.NodeName != "n1" || sum.Node.Memory == nil || *sum.Node.Memory.WorkingSetBytes == 0 {
		t.Errorf("node %+v", sum.Node)
	}
	if len(sum.Pods) != 1 || sum.Pods[0].PodRef.Name != "web" || len(sum.Pods[0].Containers) != 1 {
		t.Fatalf("pods %s", body)
	}
	p := sum.Pods[0]
	if *p.CPU.UsageNanoCores != 100e6 || *p.Memory.WorkingSetBytes != 20<<20 || p.Containers[0].Name != "app" {
		t.Errorf("pod cpu %v memory %v", *p.CPU.UsageNanoCores, *p.Memory.WorkingSetBytes)
	}

	if code, body := get(t, clients["system:node:other"], base+"/stats/summary"); code != http.StatusForbidden {
		t.Errorf("another node: %d %s, want 403", code, body)
	}
}

type failingStats struct{}

func (failingStats) Summary(context.Context) (*stats.Summary, error) {
	return nil, errors.New("runtime is down")
}

func TestEndpointStatsErrors(t *testing.T) {
	base, clients := serveStats(t, nil, map[string][]string{APIServerUser: nil})
	if code, _ := get(t, clients[APIServerUser], base+"/stats/summary"); code != http.StatusNotImplemented {
		t.Errorf("without stats: %d, want 501", code)
	}
	base, clients = serveStats(t, failingStats{}, map[string][]string{APIServerUser: nil})
	if code, body := get(t, clients[APIServerUser], base+"/stats/summary"); code != http.StatusInternalServerError || body != "runtime is down" {
		t.Errorf("failing stats: %d %q, want 500", code, body)
	}
}
