package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/auth/pki"
	"github.com/skiffkube/skiff/internal/runtime"
)

// fakePods serves one pod from a table.
type fakePods map[string]*Pod

func (f fakePods) LookupPod(_ context.Context, ns, name string) (*Pod, error) {
	if p, ok := f[ns+"/"+name]; ok {
		return p, nil
	}
	return nil, ErrPodNotFound
}

// serve starts the endpoint on loopback and returns its URL and clients
// holding certificates of the given users.
func serve(t *testing.T, pods Pods, users map[string][]string, opts ...func(*Config)) (string, map[string]*http.Client) {
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
	cfg := Config{Pods: pods, Certificate: cert, ClientCAs: ca.Pool(), LogPollInterval: time.Millisecond}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := New(cfg)
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
	clients["anonymous"] = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	return "https://" + l.Addr().String(), clients
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestEndpointAuthorization(t *testing.T) {
	base, clients := serve(t, fakePods{}, map[string][]string{
		APIServerUser: nil, "admin": {MastersGroup}, "system:node:other": {"system:nodes"},
	})
	for user, want := range map[string]int{APIServerUser: 200, "admin": 200, "system:node:other": 403} {
		if code, body := get(t, clients[user], base+"/healthz"); code != want {
			t.Errorf("%s: got %d %q, want %d", user, code, body, want)
		}
	}
	// No client certificate: the handshake fails.
	if code, _ := get(t, clients["anonymous"], base+"/healthz"); code != 0 {
		t.Errorf("anonymous: got %d, want a failed handshake", code)
	}
}

func TestEndpointLogs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pods := fakePods{"ns/p": {Namespace: "ns", Name: "p", UID: "u", Containers: map[string][]Container{
		"c": {
			{ID: "c1", Attempt: 1, State: runtime.ContainerExited, LogPath: write("1.log", "2026-01-01T00:00:01Z stdout F new\n")},
			{ID: "c0", Attempt: 0, State: runtime.ContainerExited, LogPath: write("0.log", "2026-01-01T00:00:00Z stdout F old\n")},
		},
		"single": {{ID: "s0", State: runtime.ContainerExited, LogPath: write("s.log", "2026-01-01T00:00:00Z stderr F only\n")}},
	}}}
	base, clients := serve(t, pods, map[string][]string{APIServerUser: nil})
	c := clients[APIServerUser]
	tests := []struct {
		path     string
		wantCode int
		wantBody string
	}{
		{"/containerLogs/ns/p/c", 200, "new"},
		{"/containerLogs/ns/p/c?previous=true", 200, "old"},
		{"/containerLogs/ns/p/c?follow=true", 200, "new"},
		{"/containerLogs/ns/p/c?timestamps=true", 200, "2026-01-01T00:00:01Z new"},
		{"/containerLogs/ns/p/single?previous=true", 400, `previous terminated container "single" in pod "p" not found`},
		{"/containerLogs/ns/p/none", 400, `container "none" in pod "p" is waiting to start: ContainerCreating`},
		{"/containerLogs/ns/q/c", 404, "pod ns/q not found on this node"},
		{"/containerLogs/ns/p/c?tailLines=x", 400, `tailLines "x" must be a non-negative integer`},
		{"/exec/ns/p/c?command=ls&output=1", 501, "streaming is not supported by this node's runtime"},
	}
	for _, tt := range tests {
		code, body := get(t, c, base+tt.path)
		if code != tt.wantCode || body != tt.wantBody {
			t.Errorf("%s: got %d %q, want %d %q", tt.path, code, body, tt.wantCode, tt.wantBody)
		}
	}
}
