// Package serviceaccount issues and verifies service account tokens: JSON
// Web Tokens signed with ES256 by a key the server keeps under its data
// directory, with upstream's claims (iss, sub
// "system:serviceaccount:<namespace>:<name>", aud, exp, iat, nbf, jti and
// the "kubernetes.io" claim naming the namespace, the service account and
// the pod, node or secret the token is bound to).
//
// The Authenticator checks a token's signature, issuer, expiry and
// audience, then asks a Lookup whether the service account and the bound
// object still exist with the UIDs the token names, so that a token dies
// with its pod.
//
// It also issues and verifies the legacy, non-expiring tokens of Secrets
// of type kubernetes.io/service-account-token (issuer
// "kubernetes/serviceaccount"); LegacyAuthenticator accepts them while the
// Secret holds the token and the service account keeps its UID.
package serviceaccount
