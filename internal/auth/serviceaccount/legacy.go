package serviceaccount

import (
	"encoding/json"
	"errors"
	"fmt"
)

// LegacyIssuer is the "iss" of the non-expiring tokens kept in Secrets of
// type kubernetes.io/service-account-token, as upstream issues them.
const LegacyIssuer = "kubernetes/serviceaccount"

// Annotations and keys of a service account token Secret.
const (
	// LegacyNameAnnotation names the service account of a token Secret.
	LegacyNameAnnotation = "kubernetes.io/service-account.name"
	// LegacyUIDAnnotation records the UID of that service account.
	LegacyUIDAnnotation = "kubernetes.io/service-account.uid"
	// LegacyTokenKey, LegacyCAKey and LegacyNamespaceKey are the data keys
	// the server fills.
	LegacyTokenKey     = "token"
	LegacyCAKey        = "ca.crt"
	LegacyNamespaceKey = "namespace"
)

// LegacyClaims are the contents of a Secret-based service account token.
type LegacyClaims struct {
	// Namespace of the Secret and of the service account.
	Namespace string
	// SecretName is the Secret that holds the token.
	SecretName string
	// ServiceAccountName and ServiceAccountUID identify the account.
	ServiceAccountName, ServiceAccountUID string
}

// legacyWire is the JSON form of LegacyClaims (upstream's claim names; no
// audience, expiry or issue time).
type legacyWire struct {
	Issuer             string `json:"iss"`
	Namespace          string `json:"kubernetes.io/serviceaccount/namespace"`
	SecretName         string `json:"kubernetes.io/serviceaccount/secret.name"`
	ServiceAccountName string `json:"kubernetes.io/serviceaccount/service-account.name"`
	ServiceAccountUID  string `json:"kubernetes.io/serviceaccount/service-account.uid"`
	Subject            string `json:"sub"`
}

// SignLegacy returns c as a signed, non-expiring compact JWT.
func (k *Keys) SignLegacy(c LegacyClaims) (string, error) {
	if err := c.check(); err != nil {
		return "", err
	}
	w := legacyWire{
		Issuer: LegacyIssuer, Namespace: c.Namespace, SecretName: c.SecretName,
		ServiceAccountName: c.ServiceAccountName, ServiceAccountUID: c.ServiceAccountUID,
		Subject: Username(c.Namespace, c.ServiceAccountName),
	}
	return k.signJWS(w)
}

// VerifyLegacy checks token's signature and issuer and returns its claims.
// A token that is not a legacy token of these Keys (bad shape, signature
// or issuer) is ErrNotServiceAccountToken, so other authenticators may
// try it.
func (k *Keys) VerifyLegacy(token string) (*LegacyClaims, error) {
	pb, err := k.verifyJWS(token)
	if err != nil {
		return nil, err
	}
	var w legacyWire
	if err := json.Unmarshal(pb, &w); err != nil {
		return nil, fmt.Errorf("legacy service account token claims: %w", err)
	}
	if w.Issuer != LegacyIssuer {
		return nil, ErrNotServiceAccountToken
	}
	c := &LegacyClaims{Namespace: w.Namespace, SecretName: w.SecretName, ServiceAccountName: w.ServiceAccountName, ServiceAccountUID: w.ServiceAccountUID}
	if err := c.check(); err != nil {
		return nil, err
	}
	if w.Subject != Username(c.Namespace, c.ServiceAccountName) {
		return nil, errors.New("legacy service account token: inconsistent subject")
	}
	return c, nil
}

// check refuses claims missing a part.
func (c *LegacyClaims) check() error {
	if c.Namespace == "" || c.SecretName == "" || c.ServiceAccountName == "" || c.ServiceAccountUID == "" {
		return errors.New("legacy service account token: namespace, secret and service account name and UID are required")
	}
	return nil
}

// LegacyTokenMatches reports whether token is a legacy token of these Keys
// carrying exactly the claims want, so that a Secret's token is kept as
// long as it still describes the Secret and its service account.
func (k *Keys) LegacyTokenMatches(token string, want LegacyClaims) bool {
	c, err := k.VerifyLegacy(token)
	return err == nil && *c == want
}
