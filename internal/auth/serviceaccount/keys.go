package serviceaccount

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DefaultIssuer is the issuer of tokens when none is configured, as
// upstream clusters commonly use.
const DefaultIssuer = "https://kubernetes.default.svc.cluster.local"

// Keys signs and verifies service account tokens.
type Keys struct {
	// Issuer is the "iss" of issued tokens, and the only one accepted.
	Issuer string
	// APIAudiences are the audiences the API server accepts and gives
	// tokens that ask for none; empty means {Issuer}.
	APIAudiences []string

	key   *ecdsa.PrivateKey
	keyID string
}

// NewKeys returns Keys signing with key.
func NewKeys(key *ecdsa.PrivateKey, issuer string, audiences []string) (*Keys, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("service account signing key must be an ECDSA P-256 key")
	}
	if issuer == "" {
		issuer = DefaultIssuer
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("encoding the service account public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return &Keys{Issuer: issuer, APIAudiences: audiences, key: key, keyID: base64.RawURLEncoding.EncodeToString(sum[:])}, nil
}

// EnsureKeys loads the signing key from path (PEM, "EC PRIVATE KEY"), or
// creates it there (mode 0600) when absent.
func EnsureKeys(path, issuer string, audiences []string) (*Keys, error) {
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("service account key %s: no PEM data", path)
		}
		key, err := x509.ParseECPrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("service account key %s: %w", path, err)
		}
		return NewKeys(key, issuer, audiences)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("reading service account key: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating the service account key: %w", err)
	}
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding the service account key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("service account key directory: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("writing the service account key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("writing the service account key: %w", err)
	}
	return NewKeys(key, issuer, audiences)
}

// Audiences returns the API audiences: APIAudiences, or {Issuer}.
func (k *Keys) Audiences() []string {
	if len(k.APIAudiences) > 0 {
		return k.APIAudiences
	}
	return []string{k.Issuer}
}

// KeyID identifies the signing key ("kid" of issued tokens).
func (k *Keys) KeyID() string { return k.keyID }

// PublicKey is the verification key.
func (k *Keys) PublicKey() *ecdsa.PublicKey { return &k.key.PublicKey }
