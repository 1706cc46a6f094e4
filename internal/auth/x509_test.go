package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/auth/pki"
)

// issue returns a client certificate from ca, parsed.
func issue(t *testing.T, ca *pki.CA, user string, groups []string, now time.Time) *x509.Certificate {
	t.Helper()
	certPEM, _, err := ca.IssueClientCert(user, groups, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// signedWithoutCN returns a client certificate from ca with an empty subject.
func signedWithoutCN(t *testing.T, ca *pki.CA, now time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42),
		Subject:      pkix.Name{Organization: []string{"team"}},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// verifiedState returns the TLS state of a connection that presented cert,
// with the chains verified against ca as the TLS server would.
func verifiedState(t *testing.T, ca *pki.CA, cert *x509.Certificate, now time.Time) *tls.ConnectionState {
	t.Helper()
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots:       ca.Pool(),
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}, VerifiedChains: chains}
}

func TestX509Authenticate(t *testing.T) {
	now := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	ca, err := pki.EnsureCA(t.TempDir(), "test-ca", now)
	if err != nil {
		t.Fatal(err)
	}
	admin := issue(t, ca, "admin", []string{"system:masters", "ops"}, now)
	node := issue(t, ca, "system:node:n1", []string{"system:nodes", GroupAuthenticated}, now)

	cases := []struct {
		name    string
		state   *tls.ConnectionState
		ok      bool
		wantErr bool
		user    string
		groups  []string
	}{
		{name: "plain HTTP", state: nil},
		{name: "TLS without client certificate", state: &tls.ConnectionState{}},
		{name: "admin", state: verifiedState(t, ca, admin, now), ok: true,
			user: "admin", groups: []string{"ops", "system:masters", GroupAuthenticated}},
		{name: "node, authenticated group not doubled", state: verifiedState(t, ca, node, now), ok: true,
			user: "system:node:n1", groups: []string{"system:nodes", GroupAuthenticated}},
		{name: "presented but not verified", state: &tls.ConnectionState{PeerCertificates: []*x509.Certificate{admin}}, wantErr: true},
		{name: "no common name", state: verifiedState(t, ca, signedWithoutCN(t, ca, now), now), wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			r.TLS = c.state
			u, ok, err := X509{}.Authenticate(r)
			if (err != nil) != c.wantErr || ok != c.ok {
				t.Fatalf("ok=%v err=%v, want ok=%v wantErr=%v", ok, err, c.ok, c.wantErr)
			}
			if !ok {
				if u != nil {
					t.Errorf("user %+v returned without ok", u)
				}
				return
			}
			if u.Name != c.user || !slices.Equal(u.Groups, c.groups) {
				t.Errorf("user = %q %v, want %q %v", u.Name, u.Groups, c.user, c.groups)
			}
		})
	}
}

// TestX509OverTLS authenticates a real client through a real TLS handshake.
func TestX509OverTLS(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	ca, err := pki.EnsureCA(dir, "test-ca", now)
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	if err := ca.EnsureServingCert(certPath, keyPath, []string{"127.0.0.1"}, now); err != nil {
		t.Fatal(err)
	}
	pair, err := pki.NewFilePair(certPath, keyPath)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg := pki.ServerTLSConfig(pair, ca.Pool())
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok, err := X509{}.Authenticate(r)
		if !ok || err != nil {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, u.Name+" "+strings.Join(u.Groups, ","))
	}))
	srv.TLS = tlsCfg
	// httptest would otherwise put its own certificate in front.
	cur, _ := pair.Current()
	srv.TLS.Certificates = []tls.Certificate{*cur}
	srv.StartTLS()
	defer srv.Close()

	certPEM, keyPEM, err := ca.IssueClientCert("jane", []string{"dev"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	get := func(certs []tls.Certificate) (int, string) {
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: ca.Pool(), Certificates: certs,
		}}}
		defer client.CloseIdleConnections()
		resp, err := client.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get([]tls.Certificate{clientCert}); code != 200 || body != "jane dev,system:authenticated" {
		t.Errorf("with certificate: %d %q", code, body)
	}
	if code, _ := get(nil); code != http.StatusUnauthorized {
		t.Errorf("without certificate: %d, want 401", code)
	}
}
