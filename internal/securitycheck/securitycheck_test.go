package securitycheck

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// TestControlsAgainstServer runs every control against a server with
// default settings. The controls Skiff satisfies must pass; the output has
// one line per control.
func TestControlsAgainstServer(t *testing.T) {
	var dataDir string
	srv := servertest.Start(t, func(c *server.Config) { dataDir = c.DataDir })
	target, err := NewTargetFor(srv.AdminConfig(), dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	Run(context.Background(), target, Controls(), &out)
	t.Log("\n" + out.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(Controls())+1 {
		t.Fatalf("%d lines for %d controls", len(lines), len(Controls()))
	}
	mustPass := []string{"1.1.12", "1.1.19", "1.2.1", "1.2.6", "1.2.7", "1.2.8", "1.2.13", "1.2.14", "1.2.15", "1.2.29"}
	for _, id := range mustPass {
		found := false
		for _, l := range lines {
			if strings.Contains(l, "] "+id+" ") {
				found = true
				if !strings.HasPrefix(l, "[PASS]") {
					t.Errorf("control %s: %s", id, l)
				}
			}
		}
		if !found {
			t.Errorf("control %s not reported", id)
		}
	}
	// No node has joined: the agent control cannot apply.
	if r := checkAgentAnonymous(context.Background(), target); r.Status != Skip {
		t.Errorf("agent control without nodes: %+v", r)
	}
}

func TestFileControlsFail(t *testing.T) {
	dir := t.TempDir()
	target := &Target{DataDir: dir}
	write := func(name, content string, mode os.FileMode) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	const identityFirst = "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n  - aesgcm:\n      keys: [{name: k, secret: c2VjcmV0}]\n"
	const gcmFirst = "kind: EncryptionConfiguration\nresources:\n- resources: [\"*.*\"]\n  providers:\n  - aesgcm:\n      keys: [{name: k, secret: c2VjcmV0}]\n  - identity: {}\n"
	tests := []struct {
		name  string
		setup func()
		check func(context.Context, *Target) Result
		want  Status
	}{
		{"data dir open to others", func() { os.Chmod(dir, 0o755) }, checkDataDirMode, Fail},
		{"data dir private", func() { os.Chmod(dir, 0o700) }, checkDataDirMode, Pass},
		{"no keys", func() {}, checkKeyModes, Fail},
		{"key readable by group", func() { write("tls/ca.key", "k", 0o640) }, checkKeyModes, Fail},
		{"key private", func() { write("tls/ca.key", "k", 0o600) }, checkKeyModes, Pass},
		{"no encryption config", func() {}, checkEncryptionConfigFile, Fail},
		{"encryption config readable", func() { write("encryption-config.yaml", gcmFirst, 0o644) }, checkEncryptionConfigFile, Fail},
		{"encryption config private", func() { write("encryption-config.yaml", gcmFirst, 0o600) }, checkEncryptionConfigFile, Pass},
		{"aesgcm first for all resources", func() {}, checkEncryptionProviders, Pass},
		{"identity first", func() { write("encryption-config.yaml", identityFirst, 0o600) }, checkEncryptionProviders, Fail},
		{"not an encryption config", func() { write("encryption-config.yaml", "kind: Pod\n", 0o600) }, checkEncryptionProviders, Fail},
		{"no audit log", func() {}, checkAudit, Fail},
	}
	for _, tt := range tests {
		tt.setup()
		if got := tt.check(context.Background(), target); got.Status != tt.want {
			t.Errorf("%s: %+v, want %s", tt.name, got, tt.want)
		}
	}
}

func TestProbeAgent(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	tests := []struct {
		name       string
		clientAuth tls.ClientAuthType
		handler    http.Handler
		want       Status
	}{
		{"client certificate required", tls.RequireAndVerifyClientCert, ok, Pass},
		{"anonymous refused with 401", tls.NoClientCert, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) }), Pass},
		{"anonymous served", tls.NoClientCert, ok, Fail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewUnstartedServer(tt.handler)
			srv.TLS = &tls.Config{ClientAuth: tt.clientAuth}
			srv.StartTLS()
			defer srv.Close()
			if got := probeAgent(context.Background(), srv.Listener.Addr().String()); got.Status != tt.want {
				t.Fatalf("%+v, want %s", got, tt.want)
			}
		})
	}
}
