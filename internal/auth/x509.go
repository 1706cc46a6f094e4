package auth

import (
	"crypto/x509"
	"errors"
	"net/http"
	"slices"
)

// X509 authenticates requests by their TLS client certificate. It trusts the
// chains the TLS stack verified (r.TLS.VerifiedChains, filled when the server
// verifies client certificates against the cluster CA, as pki.ServerTLSConfig
// does): the leaf's subject CN is the user name and its O values are the
// groups. Every user also gets GroupAuthenticated.
type X509 struct{}

// Authenticate implements Authenticator. A request without a client
// certificate gets no opinion; a certificate the TLS stack did not verify,
// or one that is not valid for client authentication or has no common name,
// is an error.
func (X509) Authenticate(r *http.Request) (*User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	if len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil, false, errors.New("x509: client certificate was not verified")
	}
	leaf := r.TLS.VerifiedChains[0][0]
	if !clientAuthUsage(leaf) {
		return nil, false, errors.New("x509: client certificate is not valid for client authentication")
	}
	if leaf.Subject.CommonName == "" {
		return nil, false, errors.New("x509: client certificate has no common name")
	}
	return &User{
		Name:   leaf.Subject.CommonName,
		Groups: withAuthenticatedGroup(leaf.Subject.Organization),
	}, true, nil
}

// clientAuthUsage reports whether cert may authenticate a client: no
// extended key usage at all, ClientAuth, or Any.
func clientAuthUsage(cert *x509.Certificate) bool {
	if len(cert.ExtKeyUsage) == 0 && len(cert.UnknownExtKeyUsage) == 0 {
		return true
	}
	return slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) ||
		slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny)
}
