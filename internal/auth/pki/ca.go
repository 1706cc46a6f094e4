package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

const (
	caCertFile = "ca.crt"
	caKeyFile  = "ca.key"

	caValidity = 10 * 365 * 24 * time.Hour
	// backdate is subtracted from NotBefore of every certificate so that
	// small clock differences between machines do not reject a new one.
	backdate = time.Hour
)

// CA is the cluster certificate authority.
type CA struct {
	// Cert is the CA certificate.
	Cert *x509.Certificate
	// Key is the CA private key.
	Key crypto.Signer
	// CertPEM is Cert PEM-encoded, as written to ca.crt.
	CertPEM []byte
}

// EnsureCA loads the CA from dir/ca.crt and dir/ca.key, or creates both (an
// ECDSA P-256 key and a self-signed certificate valid ten years from now)
// when neither exists. dir is created with mode 0700 when missing; the key
// is written with mode 0600. A half-present pair is an error rather than
// silently replaced, since that would change what every client trusts.
func EnsureCA(dir, commonName string, now time.Time) (*CA, error) {
	certPath := filepath.Join(dir, caCertFile)
	keyPath := filepath.Join(dir, caKeyFile)
	certExists, err := exists(certPath)
	if err != nil {
		return nil, err
	}
	keyExists, err := exists(keyPath)
	if err != nil {
		return nil, err
	}
	switch {
	case certExists && keyExists:
		return loadCA(certPath, keyPath, now)
	case certExists || keyExists:
		return nil, fmt.Errorf("ensure CA: only one of %s and %s exists; restore or remove it", certPath, keyPath)
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("ensure CA: create %s: %w", dir, err)
	}
	ca, keyPEM, err := newCA(commonName, now)
	if err != nil {
		return nil, fmt.Errorf("ensure CA: %w", err)
	}
	if err := writePair(certPath, ca.CertPEM, keyPath, keyPEM); err != nil {
		return nil, fmt.Errorf("ensure CA: %w", err)
	}
	return ca, nil
}

// LoadCA loads the CA kept in dir; unlike EnsureCA it never creates one.
func LoadCA(dir string, now time.Time) (*CA, error) {
	return loadCA(filepath.Join(dir, caCertFile), filepath.Join(dir, caKeyFile), now)
}

// loadCA reads an existing CA and checks that it can still sign.
func loadCA(certPath, keyPath string, now time.Time) (*CA, error) {
	cert, key, err := readPair(certPath, keyPath)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("load CA: %s is not a CA certificate", certPath)
	}
	if now.After(cert.NotAfter) {
		return nil, fmt.Errorf("load CA: %s expired at %s", certPath, cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(cert.Raw)}, nil
}

// newCA creates a self-signed CA and returns it with its PEM key.
func newCA(commonName string, now time.Time) (*CA, []byte, error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return &CA{Cert: cert, Key: key, CertPEM: encodeCert(der)}, keyPEM, nil
}

// Pool returns a certificate pool holding only this CA.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	return pool
}

// exists reports whether path exists.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
}
