package serviceaccount

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// Ref names an object a token refers to.
type Ref struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// Claims are the contents of a service account token.
type Claims struct {
	// Namespace and ServiceAccount identify the account.
	Namespace      string
	ServiceAccount Ref
	// Pod, Node and Secret are the objects the token is bound to, if any
	// (a pod-bound token also names the pod's node).
	Pod, Node, Secret *Ref
	// Audience, Expiry, IssuedAt and ID are the standard claims.
	Audience []string
	Expiry   time.Time
	IssuedAt time.Time
	ID       string
	// Issuer is filled by Verify (Sign uses the Keys' issuer).
	Issuer string
}

// wireClaims is the JSON form of Claims.
type wireClaims struct {
	Issuer     string   `json:"iss"`
	Subject    string   `json:"sub"`
	Audience   []string `json:"aud"`
	Expiry     int64    `json:"exp"`
	IssuedAt   int64    `json:"iat"`
	NotBefore  int64    `json:"nbf"`
	ID         string   `json:"jti,omitempty"`
	Kubernetes struct {
		Namespace      string `json:"namespace"`
		ServiceAccount Ref    `json:"serviceaccount"`
		Pod            *Ref   `json:"pod,omitempty"`
		Node           *Ref   `json:"node,omitempty"`
		Secret         *Ref   `json:"secret,omitempty"`
	} `json:"kubernetes.io"`
}

// header is the JOSE header of issued tokens.
type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
	Typ string `json:"typ,omitempty"`
}

// Username is the user name of a service account:
// "system:serviceaccount:<namespace>:<name>".
func Username(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// Sign returns c as a signed compact JWT. A zero ID gets a random one.
func (k *Keys) Sign(c Claims) (string, error) {
	var w wireClaims
	w.Issuer = k.Issuer
	w.Subject = Username(c.Namespace, c.ServiceAccount.Name)
	w.Audience = c.Audience
	w.Expiry, w.IssuedAt, w.NotBefore = c.Expiry.Unix(), c.IssuedAt.Unix(), c.IssuedAt.Unix()
	w.ID = c.ID
	if w.ID == "" {
		id, err := randomID()
		if err != nil {
			return "", err
		}
		w.ID = id
	}
	w.Kubernetes.Namespace, w.Kubernetes.ServiceAccount = c.Namespace, c.ServiceAccount
	w.Kubernetes.Pod, w.Kubernetes.Node, w.Kubernetes.Secret = c.Pod, c.Node, c.Secret
	return k.signJWS(w)
}

// Errors of Verify.
var (
	// ErrNotServiceAccountToken means the token is not a JWT of ours (wrong
	// shape, algorithm, key or issuer): another authenticator may know it.
	ErrNotServiceAccountToken = errors.New("not a service account token")
	// ErrExpired means the token is past its expiry (or before its nbf).
	ErrExpired = errors.New("service account token has expired")
)

// Verify checks token's signature, issuer and validity period at now and
// returns its claims. Audiences are the caller's to check.
func (k *Keys) Verify(token string, now time.Time) (*Claims, error) {
	pb, err := k.verifyJWS(token)
	if err != nil {
		return nil, err
	}
	var w wireClaims
	if err := json.Unmarshal(pb, &w); err != nil {
		return nil, fmt.Errorf("service account token claims: %w", err)
	}
	if w.Issuer != k.Issuer {
		return nil, ErrNotServiceAccountToken
	}
	if w.Expiry == 0 || now.Unix() >= w.Expiry || now.Unix() < w.NotBefore-60 {
		return nil, ErrExpired
	}
	kc := w.Kubernetes
	if kc.Namespace == "" || kc.ServiceAccount.Name == "" || w.Subject != Username(kc.Namespace, kc.ServiceAccount.Name) {
		return nil, errors.New("service account token: inconsistent subject")
	}
	return &Claims{
		Namespace: kc.Namespace, ServiceAccount: kc.ServiceAccount, Pod: kc.Pod, Node: kc.Node, Secret: kc.Secret,
		Audience: w.Audience, Expiry: time.Unix(w.Expiry, 0), IssuedAt: time.Unix(w.IssuedAt, 0), ID: w.ID, Issuer: w.Issuer,
	}, nil
}

// signJWS serialises claims as a compact JWS signed with ES256.
func (k *Keys) signJWS(claims any) (string, error) {
	h, err := json.Marshal(header{Alg: "ES256", Kid: k.keyID})
	if err != nil {
		return "", err
	}
	p, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, k.key, digest[:])
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signing + "." + enc.EncodeToString(sig), nil
}

// verifyJWS checks a compact JWS's shape, algorithm and signature with
// these Keys and returns its payload; any failure is
// ErrNotServiceAccountToken.
func (k *Keys) verifyJWS(token string) ([]byte, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, ErrNotServiceAccountToken
	}
	enc := base64.RawURLEncoding
	hb, err1 := enc.DecodeString(parts[0])
	pb, err2 := enc.DecodeString(parts[1])
	sig, err3 := enc.DecodeString(parts[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, ErrNotServiceAccountToken
	}
	var h header
	if json.Unmarshal(hb, &h) != nil || h.Alg != "ES256" || len(sig) != 64 {
		return nil, ErrNotServiceAccountToken
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(&k.key.PublicKey, digest[:], r, s) {
		return nil, ErrNotServiceAccountToken
	}
	return pb, nil
}

// randomID returns a random token ID (a UUID-shaped string).
func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("token id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}
