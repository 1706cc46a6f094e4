package pki

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// TestKubeconfigHandshake serves HTTPS with ServerTLSConfig and connects with
// a client-go client built from a kubeconfig written by WriteKubeconfig.
func TestKubeconfigHandshake(t *testing.T) {
	now := time.Now() // the TLS stack checks validity against the wall clock
	dir := t.TempDir()
	ca, err := EnsureCA(filepath.Join(dir, "ca"), "skiff-ca", now)
	if err != nil {
		t.Fatal(err)
	}
	servingCert, servingKey := filepath.Join(dir, "serving.crt"), filepath.Join(dir, "serving.key")
	if err := ca.EnsureServingCert(servingCert, servingKey, []string{"localhost", "127.0.0.1"}, now); err != nil {
		t.Fatal(err)
	}
	clientCert, clientKey := filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")
	if err := ca.EnsureClientCert(clientCert, clientKey, "admin", []string{"system:masters"}, now); err != nil {
		t.Fatal(err)
	}
	pair, err := NewFilePair(servingCert, servingKey)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg := ServerTLSConfig(pair, ca.Pool())
	if tlsCfg.MinVersion != tls.VersionTLS12 || tlsCfg.ClientAuth != tls.VerifyClientCertIfGiven {
		t.Fatalf("MinVersion=%x ClientAuth=%v", tlsCfg.MinVersion, tlsCfg.ClientAuth)
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "no verified client certificate", http.StatusUnauthorized)
			return
		}
		leaf := r.TLS.VerifiedChains[0][0]
		io.WriteString(w, leaf.Subject.CommonName+"/"+leaf.Subject.Organization[0])
	}))
	srv.TLS = tlsCfg
	// httptest would otherwise put its own certificate in front.
	cur, _ := pair.Current()
	srv.TLS.Certificates = []tls.Certificate{*cur}
	srv.StartTLS()
	defer srv.Close()

	kubeconfig := filepath.Join(dir, "admin.kubeconfig")
	if err := WriteKubeconfig(kubeconfig, srv.URL, ca.CertPEM, clientCert, clientKey, "skiff"); err != nil {
		t.Fatal(err)
	}
	if m := fileMode(t, kubeconfig); m != 0o600 {
		t.Errorf("kubeconfig mode = %o, want 600", m)
	}
	raw, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if raw.CurrentContext != "skiff" || raw.Contexts["skiff"].AuthInfo != "skiff" || raw.Clusters["skiff"].Server != srv.URL {
		t.Fatalf("kubeconfig content: %+v", raw)
	}

	restCfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := rest.HTTPClientFor(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(srv.URL + "/whoami")
	if err != nil {
		t.Fatalf("GET over TLS: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "admin/system:masters" {
		t.Fatalf("response %d %q, want 200 \"admin/system:masters\"", resp.StatusCode, body)
	}
}

// TestServerRejectsWeakTLS checks that TLS 1.1 and non-AEAD suites are refused.
func TestServerRejectsWeakTLS(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	ca, err := EnsureCA(dir, "skiff-ca", now)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	if err := ca.EnsureServingCert(certPath, keyPath, []string{"127.0.0.1"}, now); err != nil {
		t.Fatal(err)
	}
	pair, err := NewFilePair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg := ServerTLSConfig(pair, ca.Pool())
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	srv.TLS = tlsCfg
	// httptest would otherwise put its own certificate in front.
	cur, _ := pair.Current()
	srv.TLS.Certificates = []tls.Certificate{*cur}
	srv.StartTLS()
	defer srv.Close()

	cases := []struct {
		name string
		cfg  *tls.Config
		ok   bool
	}{
		{"TLS 1.3", &tls.Config{MinVersion: tls.VersionTLS13}, true},
		{"TLS 1.2 AEAD", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}, true},
		{"TLS 1.2 CBC", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, false},
		{"TLS 1.1", &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}, false},
	}
	for _, c := range cases {
		c.cfg.RootCAs = ca.Pool()
		conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), c.cfg)
		if err == nil {
			conn.Close()
		}
		if (err == nil) != c.ok {
			t.Errorf("%s: handshake error = %v, want success %v", c.name, err, c.ok)
		}
	}
}
