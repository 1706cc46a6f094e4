package apiserver

import (
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/skiffkube/skiff/internal/auth/serviceaccount"
)

// The service account issuer discovery paths: an OpenID Connect provider
// configuration and the key set that verifies service account tokens, so
// that other systems can trust them (readable by every service account
// through system:service-account-issuer-discovery).
const (
	oidcConfigurationPath = "/.well-known/openid-configuration"
	oidcJWKSPath          = "/openid/v1/jwks"
)

// oidcConfiguration is the OpenID provider metadata served at
// oidcConfigurationPath.
type oidcConfiguration struct {
	Issuer            string   `json:"issuer"`
	JWKSURI           string   `json:"jwks_uri"`
	ResponseTypes     []string `json:"response_types_supported"`
	SubjectTypes      []string `json:"subject_types_supported"`
	SigningAlgorithms []string `json:"id_token_signing_alg_values_supported"`
}

// jwk is one JSON Web Key (RFC 7517) of an EC P-256 public key.
type jwk struct {
	Use string `json:"use"`
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Crv string `json:"crv"`
	Alg string `json:"alg"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// jwkSet is a JSON Web Key Set.
type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// oidcDocuments are the encoded discovery documents.
type oidcDocuments struct {
	configuration, jwks []byte
}

// newOIDCDocuments builds the documents of keys; the jwks_uri is on
// externalAddress (host:port), as upstream builds it by default.
func newOIDCDocuments(keys *serviceaccount.Keys, externalAddress string) (*oidcDocuments, error) {
	base := "https://" + externalAddress
	conf, err := json.Marshal(oidcConfiguration{
		Issuer: keys.Issuer, JWKSURI: base + oidcJWKSPath,
		ResponseTypes: []string{"id_token"}, SubjectTypes: []string{"public"}, SigningAlgorithms: []string{"ES256"},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the OpenID configuration: %w", err)
	}
	set, err := json.Marshal(jwkSet{Keys: []jwk{ecJWK(keys.PublicKey(), keys.KeyID())}})
	if err != nil {
		return nil, fmt.Errorf("encoding the service account key set: %w", err)
	}
	return &oidcDocuments{configuration: conf, jwks: set}, nil
}

// ecJWK is the JWK of a P-256 public key.
func ecJWK(pub *ecdsa.PublicKey, kid string) jwk {
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	enc := base64.RawURLEncoding
	return jwk{Use: "sig", Kty: "EC", Kid: kid, Crv: "P-256", Alg: "ES256", X: enc.EncodeToString(x), Y: enc.EncodeToString(y)}
}

// serveOIDC answers the discovery paths; false means p is not one of them
// (or service account tokens are off).
func (s *Server) serveOIDC(w http.ResponseWriter, r *http.Request, p string) bool {
	if s.oidc == nil {
		return false
	}
	var body []byte
	switch p {
	case oidcConfigurationPath:
		w.Header().Set("Content-Type", "application/json")
		body = s.oidc.configuration
	case oidcJWKSPath:
		w.Header().Set("Content-Type", "application/jwk-set+json")
		body = s.oidc.jwks
	default:
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return true
}
