package pki

import (
	"crypto"
	"crypto/x509"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func mustCA(t *testing.T, dir string) *CA {
	t.Helper()
	ca, err := EnsureCA(dir, "skiff-ca", testNow)
	if err != nil {
		t.Fatalf("EnsureCA: %v", err)
	}
	return ca
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := parseCert(data)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func fileMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestEnsureCACreatesThenReuses(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	ca := mustCA(t, dir)
	if !ca.Cert.IsCA || ca.Cert.Subject.CommonName != "skiff-ca" {
		t.Fatalf("CA cert: IsCA=%v CN=%q", ca.Cert.IsCA, ca.Cert.Subject.CommonName)
	}
	if got, want := ca.Cert.NotAfter, testNow.Add(caValidity); !got.Equal(want) {
		t.Errorf("NotAfter = %s, want %s", got, want)
	}
	if m := fileMode(t, dir); m != 0o700 {
		t.Errorf("dir mode = %o, want 700", m)
	}
	if m := fileMode(t, filepath.Join(dir, "ca.key")); m != 0o600 {
		t.Errorf("key mode = %o, want 600", m)
	}
	again, err := EnsureCA(dir, "other-name", testNow.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if again.Cert.SerialNumber.Cmp(ca.Cert.SerialNumber) != 0 {
		t.Errorf("second EnsureCA issued a new CA (serial %s, was %s)", again.Cert.SerialNumber, ca.Cert.SerialNumber)
	}
	if string(again.CertPEM) != string(ca.CertPEM) {
		t.Error("CertPEM differs after reload")
	}
}

func TestEnsureCARefusesHalfPair(t *testing.T) {
	dir := t.TempDir()
	mustCA(t, dir)
	if err := os.Remove(filepath.Join(dir, "ca.key")); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureCA(dir, "skiff-ca", testNow); err == nil {
		t.Fatal("EnsureCA with only ca.crt present succeeded")
	}
}

func TestEnsureServingCert(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t, filepath.Join(dir, "ca"))
	otherCA := mustCA(t, filepath.Join(dir, "other"))
	certPath, keyPath := filepath.Join(dir, "serving.crt"), filepath.Join(dir, "serving.key")
	base := []string{"localhost", "127.0.0.1", "kubernetes.default.svc"}

	steps := []struct {
		name    string
		ca      *CA
		hosts   []string
		now     time.Time
		reissue bool
	}{
		{"first call issues", ca, base, testNow, true},
		{"same hosts reuse", ca, base, testNow.Add(time.Hour), false},
		{"subset in another order reuses", ca, []string{"127.0.0.1", "LOCALHOST"}, testNow, false},
		{"added DNS name reissues", ca, append(base, "skiff.example"), testNow, true},
		{"added IP reissues", ca, append(base, "skiff.example", "10.96.0.1"), testNow, true},
		{"less than 30 days left reissues", ca, base, testNow.Add(360 * 24 * time.Hour), true},
		{"fresh one reused", ca, base, testNow.Add(361 * 24 * time.Hour), false},
		{"other CA reissues", otherCA, base, testNow.Add(361 * 24 * time.Hour), true},
	}
	var prev *x509.Certificate
	for _, s := range steps {
		if err := s.ca.EnsureServingCert(certPath, keyPath, s.hosts, s.now); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		cert := readCert(t, certPath)
		reissued := prev == nil || cert.SerialNumber.Cmp(prev.SerialNumber) != 0
		if reissued != s.reissue {
			t.Errorf("%s: reissued = %v, want %v", s.name, reissued, s.reissue)
		}
		if err := cert.CheckSignatureFrom(s.ca.Cert); err != nil {
			t.Errorf("%s: not signed by the CA: %v", s.name, err)
		}
		for _, h := range s.hosts {
			if err := cert.VerifyHostname(h); err != nil {
				t.Errorf("%s: %v", s.name, err)
			}
		}
		if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageServerAuth) {
			t.Errorf("%s: no ServerAuth usage", s.name)
		}
		if m := fileMode(t, keyPath); m != 0o600 {
			t.Errorf("%s: key mode = %o, want 600", s.name, m)
		}
		prev = cert
	}
	if err := ca.EnsureServingCert(certPath, keyPath, nil, testNow); err == nil {
		t.Error("EnsureServingCert without hosts succeeded")
	}
}

func TestEnsureClientCert(t *testing.T) {
	dir := t.TempDir()
	ca := mustCA(t, filepath.Join(dir, "ca"))
	certPath, keyPath := filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key")

	steps := []struct {
		name    string
		user    string
		groups  []string
		now     time.Time
		reissue bool
	}{
		{"first call issues", "admin", []string{"system:masters", "ops"}, testNow, true},
		{"same identity reuses", "admin", []string{"ops", "system:masters"}, testNow, false},
		{"group change reissues", "admin", []string{"system:masters"}, testNow, true},
		{"user change reissues", "root", []string{"system:masters"}, testNow, true},
		{"near expiry reissues", "root", []string{"system:masters"}, testNow.Add(340 * 24 * time.Hour), true},
	}
	var prev *x509.Certificate
	for _, s := range steps {
		if err := ca.EnsureClientCert(certPath, keyPath, s.user, s.groups, s.now); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		cert := readCert(t, certPath)
		reissued := prev == nil || cert.SerialNumber.Cmp(prev.SerialNumber) != 0
		if reissued != s.reissue {
			t.Errorf("%s: reissued = %v, want %v", s.name, reissued, s.reissue)
		}
		if cert.Subject.CommonName != s.user {
			t.Errorf("%s: CN = %q, want %q", s.name, cert.Subject.CommonName, s.user)
		}
		if !slices.Equal(sorted(cert.Subject.Organization), sorted(s.groups)) {
			t.Errorf("%s: O = %v, want %v", s.name, cert.Subject.Organization, s.groups)
		}
		if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
			t.Errorf("%s: ExtKeyUsage = %v", s.name, cert.ExtKeyUsage)
		}
		prev = cert
	}
}

func TestIssueClientCert(t *testing.T) {
	ca := mustCA(t, t.TempDir())
	certPEM, keyPEM, err := ca.IssueClientCert("jane", []string{"dev"}, 2*time.Hour, testNow)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
		t.Error("key does not match certificate")
	}
	if got, want := cert.NotAfter, testNow.Add(2*time.Hour); !got.Equal(want) {
		t.Errorf("NotAfter = %s, want %s", got, want)
	}
	_, err = cert.Verify(x509.VerifyOptions{
		Roots:       ca.Pool(),
		CurrentTime: testNow,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		t.Errorf("verify: %v", err)
	}
	if _, _, err := ca.IssueClientCert("", nil, time.Hour, testNow); err == nil {
		t.Error("IssueClientCert without user succeeded")
	}
	if _, _, err := ca.IssueClientCert("jane", nil, 0, testNow); err == nil {
		t.Error("IssueClientCert with zero validity succeeded")
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
