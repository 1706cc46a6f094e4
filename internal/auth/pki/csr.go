package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"time"
)

// SignClientCSR issues a client certificate for user in groups to the key
// of csr, valid for validity (a year when 0, never past the CA). The CSR's
// signature must verify; its subject is not used: the caller decides the
// identity. This is how a joining node gets a certificate without its
// private key leaving the node.
func (ca *CA) SignClientCSR(csr *x509.CertificateRequest, user string, groups []string, validity time.Duration, now time.Time) ([]byte, error) {
	if csr == nil {
		return nil, errors.New("sign CSR: no request")
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("sign CSR: %w", err)
	}
	if user == "" {
		return nil, errors.New("sign CSR: empty user")
	}
	if validity <= 0 {
		validity = leafValidity
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: user, Organization: groups},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, csr.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign CSR: %w", err)
	}
	return encodeCert(der), nil
}
