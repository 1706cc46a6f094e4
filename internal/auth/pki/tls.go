package pki

import (
	"crypto/tls"
	"crypto/x509"
)

// strongCipherSuites are the TLS 1.2 suites the server accepts: ECDHE key
// exchange with an AEAD cipher only. TLS 1.3 suites are not configurable
// and are all strong.
func strongCipherSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}
}

// ServerTLSConfig returns the API server's TLS configuration: the serving
// certificate from pair (reloaded when rotated on disk), TLS 1.2 or newer
// with strong cipher suites only, and client certificates verified
// against clientCAs when a client presents one (VerifyClientCertIfGiven),
// so token and anonymous clients still connect.
func ServerTLSConfig(pair *FilePair, clientCAs *x509.CertPool) *tls.Config {
	return &tls.Config{
		GetCertificate: pair.GetCertificate,
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   strongCipherSuites(),
		ClientAuth:     tls.VerifyClientCertIfGiven,
		ClientCAs:      clientCAs,
	}
}
