package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

const (
	leafValidity = 365 * 24 * time.Hour
	// renewBefore: an existing certificate valid for less than this is
	// reissued.
	renewBefore = 30 * 24 * time.Hour
)

// leafSpec describes a certificate the CA issues.
type leafSpec struct {
	subject  pkix.Name
	dnsNames []string
	ips      []net.IP
	usage    x509.ExtKeyUsage
	validity time.Duration
}

// servingSpec builds the spec of a serving certificate for hosts, each a
// DNS name or an IP address.
func servingSpec(hosts []string) (leafSpec, error) {
	spec := leafSpec{usage: x509.ExtKeyUsageServerAuth, validity: leafValidity}
	for _, h := range hosts {
		h = strings.TrimSpace(h)
		switch ip := net.ParseIP(h); {
		case h == "":
			continue
		case ip != nil:
			if !slices.ContainsFunc(spec.ips, ip.Equal) {
				spec.ips = append(spec.ips, ip)
			}
		default:
			h = strings.ToLower(h)
			if !slices.Contains(spec.dnsNames, h) {
				spec.dnsNames = append(spec.dnsNames, h)
			}
		}
	}
	switch {
	case len(spec.dnsNames) > 0:
		spec.subject.CommonName = spec.dnsNames[0]
	case len(spec.ips) > 0:
		spec.subject.CommonName = spec.ips[0].String()
	default:
		return leafSpec{}, errors.New("serving certificate needs at least one host")
	}
	return spec, nil
}

// clientSpec builds the spec of a client certificate for a user.
func clientSpec(user string, groups []string, validity time.Duration) (leafSpec, error) {
	if user == "" {
		return leafSpec{}, errors.New("client certificate needs a user name")
	}
	if validity <= 0 {
		return leafSpec{}, fmt.Errorf("client certificate validity %s is not positive", validity)
	}
	return leafSpec{
		subject:  pkix.Name{CommonName: user, Organization: slices.Clone(groups)},
		usage:    x509.ExtKeyUsageClientAuth,
		validity: validity,
	}, nil
}

// EnsureServingCert makes sure certPath/keyPath hold a serving certificate
// signed by ca that covers every host (DNS names and IP addresses mixed) and
// stays valid for more than 30 days after now. An existing certificate that
// meets all of this is kept; otherwise a new key and certificate, valid one
// year, replace it.
func (ca *CA) EnsureServingCert(certPath, keyPath string, hosts []string, now time.Time) error {
	spec, err := servingSpec(hosts)
	if err != nil {
		return fmt.Errorf("ensure serving certificate %s: %w", certPath, err)
	}
	if err := ca.ensure(certPath, keyPath, spec, now); err != nil {
		return fmt.Errorf("ensure serving certificate %s: %w", certPath, err)
	}
	return nil
}

// EnsureClientCert makes sure certPath/keyPath hold a client certificate
// signed by ca for user (the subject CN) in groups (the subject O values),
// under the same reuse rules as EnsureServingCert.
func (ca *CA) EnsureClientCert(certPath, keyPath, user string, groups []string, now time.Time) error {
	spec, err := clientSpec(user, groups, leafValidity)
	if err != nil {
		return fmt.Errorf("ensure client certificate %s: %w", certPath, err)
	}
	if err := ca.ensure(certPath, keyPath, spec, now); err != nil {
		return fmt.Errorf("ensure client certificate %s: %w", certPath, err)
	}
	return nil
}

// IssueClientCert issues a new client certificate for user in groups, valid
// from now for validity, and returns it with its key, both PEM-encoded.
func (ca *CA) IssueClientCert(user string, groups []string, validity time.Duration, now time.Time) (certPEM, keyPEM []byte, err error) {
	spec, err := clientSpec(user, groups, validity)
	if err != nil {
		return nil, nil, fmt.Errorf("issue client certificate: %w", err)
	}
	certPEM, keyPEM, err = ca.issue(spec, now)
	if err != nil {
		return nil, nil, fmt.Errorf("issue client certificate: %w", err)
	}
	return certPEM, keyPEM, nil
}

// ensure keeps the pair at certPath/keyPath if it satisfies spec, and
// issues and writes a new one otherwise.
func (ca *CA) ensure(certPath, keyPath string, spec leafSpec, now time.Time) error {
	if cert, _, err := readPair(certPath, keyPath); err == nil && ca.satisfies(cert, spec, now) {
		return nil
	}
	certPEM, keyPEM, err := ca.issue(spec, now)
	if err != nil {
		return err
	}
	return writePair(certPath, certPEM, keyPath, keyPEM)
}

// satisfies reports whether an existing certificate can be kept for spec.
func (ca *CA) satisfies(cert *x509.Certificate, spec leafSpec, now time.Time) bool {
	if cert.CheckSignatureFrom(ca.Cert) != nil {
		return false
	}
	if now.Before(cert.NotBefore) || cert.NotAfter.Sub(now) <= renewBefore {
		return false
	}
	if !slices.Contains(cert.ExtKeyUsage, spec.usage) {
		return false
	}
	if spec.usage == x509.ExtKeyUsageClientAuth && !sameSubject(cert.Subject, spec.subject) {
		return false
	}
	for _, name := range spec.dnsNames {
		if !slices.ContainsFunc(cert.DNSNames, func(n string) bool { return strings.EqualFold(n, name) }) {
			return false
		}
	}
	for _, ip := range spec.ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// sameSubject compares CN and the set of O values.
func sameSubject(a, b pkix.Name) bool {
	if a.CommonName != b.CommonName {
		return false
	}
	ao, bo := slices.Clone(a.Organization), slices.Clone(b.Organization)
	slices.Sort(ao)
	slices.Sort(bo)
	return slices.Equal(slices.Compact(ao), slices.Compact(bo))
}

// issue creates a new key and a certificate for spec signed by ca.
func (ca *CA) issue(spec leafSpec, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, nil, err
	}
	notAfter := now.Add(spec.validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               spec.subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{spec.usage},
		BasicConstraintsValid: true,
		DNSNames:              spec.dnsNames,
		IPAddresses:           spec.ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate: %w", err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, err
	}
	return encodeCert(der), keyPEM, nil
}
