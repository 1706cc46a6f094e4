package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// RenewLeaves reissues the leaf certificates ca signed that are kept under
// dir (each <name>.crt with <name>.key beside it, in dir or below it),
// keeping each one's subject, names and usage, with a new key and a new
// validity period. Without force only those that expire within 30 days
// are reissued; with force all of them are (`skiff certificate rotate`).
// The CA's own files and certificates it did not sign are left alone. It
// returns the paths of the certificates it reissued. Readers of the files
// (FilePair, client-go) pick the new ones up.
func (ca *CA) RenewLeaves(dir string, force bool, now time.Time) ([]string, error) {
	var renewed []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".crt") || filepath.Base(path) == caCertFile {
			return nil
		}
		keyPath := strings.TrimSuffix(path, ".crt") + ".key"
		if _, err := os.Stat(keyPath); errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		did, err := ca.renewLeaf(path, keyPath, force, now)
		if err != nil {
			return err
		}
		if did {
			renewed = append(renewed, path)
		}
		return nil
	})
	if err != nil {
		return renewed, fmt.Errorf("renewing certificates under %s: %w", dir, err)
	}
	return renewed, nil
}

// renewLeaf reissues one pair when forced or close to expiry.
func (ca *CA) renewLeaf(certPath, keyPath string, force bool, now time.Time) (bool, error) {
	data, err := os.ReadFile(certPath)
	if err != nil {
		return false, err
	}
	cert, err := parseCert(data)
	if err != nil {
		return false, fmt.Errorf("parse %s: %w", certPath, err)
	}
	if cert.CheckSignatureFrom(ca.Cert) != nil || len(cert.ExtKeyUsage) == 0 {
		return false, nil
	}
	if !force && cert.NotAfter.Sub(now) > renewBefore {
		return false, nil
	}
	spec := leafSpec{subject: cert.Subject, dnsNames: cert.DNSNames, ips: cert.IPAddresses,
		usage: cert.ExtKeyUsage[0], validity: leafValidity}
	if spec.usage != x509.ExtKeyUsageServerAuth && spec.usage != x509.ExtKeyUsageClientAuth {
		return false, nil
	}
	certPEM, keyPEM, err := ca.issue(spec, now)
	if err != nil {
		return false, fmt.Errorf("reissue %s: %w", certPath, err)
	}
	return true, writePair(certPath, certPEM, keyPath, keyPEM)
}

// RenewalDue says whether a certificate valid until notAfter should be
// renewed at now: within its last 30 days, or its last fifth for short
// lived ones.
func RenewalDue(notBefore, notAfter, now time.Time) bool {
	margin := min(renewBefore, notAfter.Sub(notBefore)/5)
	return notAfter.Sub(now) <= margin
}
