package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestRenewLeaves(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	ca := mustCA(t, dir)
	serving := filepath.Join(dir, "serving.crt")
	client := filepath.Join(dir, "components", "scheduler.crt")
	if err := ca.EnsureServingCert(serving, filepath.Join(dir, "serving.key"), []string{"localhost", "10.0.0.1"}, now); err != nil {
		t.Fatal(err)
	}
	if err := ca.EnsureClientCert(client, filepath.Join(dir, "components", "scheduler.key"), "system:kube-scheduler", []string{"g"}, now); err != nil {
		t.Fatal(err)
	}
	// A certificate some other CA signed is not Skiff's to renew.
	other := mustCA(t, t.TempDir())
	foreign := filepath.Join(dir, "foreign.crt")
	if err := other.EnsureClientCert(foreign, filepath.Join(dir, "foreign.key"), "x", nil, now); err != nil {
		t.Fatal(err)
	}
	before := map[string]*x509.Certificate{serving: readCert(t, serving), client: readCert(t, client), foreign: readCert(t, foreign)}
	caBefore, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))

	tests := []struct {
		name  string
		at    time.Time
		force bool
		want  []string
	}{
		{"fresh certificates stay", now.Add(24 * time.Hour), false, nil},
		{"forced rotation renews every leaf", now.Add(24 * time.Hour), true, []string{client, serving}},
		{"close to expiry renews", now.Add(340 * 24 * time.Hour), false, []string{client, serving}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ca.RenewLeaves(dir, tc.force, tc.at)
			if err != nil {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("renewed %v, want %v", got, tc.want)
			}
			for _, path := range tc.want {
				c := readCert(t, path)
				old := before[path]
				if c.SerialNumber.Cmp(old.SerialNumber) == 0 || bytes.Equal(c.RawSubjectPublicKeyInfo, old.RawSubjectPublicKeyInfo) {
					t.Errorf("%s: same serial or key after renewal", path)
				}
				if c.Subject.String() != old.Subject.String() || !slices.Equal(c.DNSNames, old.DNSNames) || len(c.IPAddresses) != len(old.IPAddresses) || !slices.Equal(c.ExtKeyUsage, old.ExtKeyUsage) {
					t.Errorf("%s: identity changed: %v %v -> %v %v", path, old.Subject, old.DNSNames, c.Subject, c.DNSNames)
				}
				if !c.NotAfter.After(tc.at.Add(300 * 24 * time.Hour)) {
					t.Errorf("%s: renewed certificate ends %v", path, c.NotAfter)
				}
				if _, err := tls.LoadX509KeyPair(path, path[:len(path)-4]+".key"); err != nil {
					t.Errorf("%s: key does not match: %v", path, err)
				}
				before[path] = c
			}
		})
	}
	if readCert(t, foreign).SerialNumber.Cmp(before[foreign].SerialNumber) != 0 {
		t.Error("a certificate of another CA was reissued")
	}
	if caAfter, _ := os.ReadFile(filepath.Join(dir, "ca.crt")); !bytes.Equal(caAfter, caBefore) {
		t.Error("the CA certificate changed")
	}
}

func TestFilePairReloads(t *testing.T) {
	now := time.Now()
	dir := t.TempDir()
	ca := mustCA(t, dir)
	certPath, keyPath := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	if err := ca.EnsureServingCert(certPath, keyPath, []string{"localhost"}, now); err != nil {
		t.Fatal(err)
	}
	pair, err := NewFilePair(certPath, keyPath, ca.Cert.Raw)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := pair.Current()
	if len(first.Certificate) != 2 || !bytes.Equal(first.Certificate[1], ca.Cert.Raw) {
		t.Fatalf("chain has %d certificates, want leaf + CA", len(first.Certificate))
	}
	if _, err := ca.RenewLeaves(dir, true, now); err != nil {
		t.Fatal(err)
	}
	// A later mtime even on coarse file systems.
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(certPath, later, later); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		cur, err := pair.Current()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(cur.Certificate[0], first.Certificate[0]) {
			if len(cur.Certificate) != 2 {
				t.Fatal("the reloaded pair lost the chain")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the rotated certificate was not picked up")
		}
		time.Sleep(200 * time.Millisecond)
	}
	// A broken file keeps the last good pair.
	if err := os.WriteFile(certPath, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(reloadCheck + 100*time.Millisecond)
	if cur, err := pair.Current(); err != nil || cur == nil {
		t.Fatalf("after a broken file: %v", err)
	}
}

func TestRenewalDue(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	tests := []struct {
		name      string
		validity  time.Duration
		elapsed   time.Duration
		wantRenew bool
	}{
		{"a year: fresh", 365 * day, 30 * day, false},
		{"a year: 31 days left", 365 * day, 334 * day, false},
		{"a year: 29 days left", 365 * day, 336 * day, true},
		{"a year: expired", 365 * day, 400 * day, true},
		{"ten days: first four fifths", 10 * day, 7 * day, false},
		{"ten days: last fifth", 10 * day, 8*day + time.Hour, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RenewalDue(start, start.Add(tc.validity), start.Add(tc.elapsed)); got != tc.wantRenew {
				t.Errorf("RenewalDue = %v, want %v", got, tc.wantRenew)
			}
		})
	}
}
