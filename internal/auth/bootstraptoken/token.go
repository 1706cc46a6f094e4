package bootstraptoken

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/auth"
)

// Names and keys of bootstrap token Secrets, as upstream.
const (
	// SecretType is the type of bootstrap token Secrets.
	SecretType corev1.SecretType = "bootstrap.kubernetes.io/token"
	// SecretPrefix starts their names: "bootstrap-token-<id>".
	SecretPrefix = "bootstrap-token-"
	// Namespace holds them.
	Namespace = "kube-system"
	// Data keys.
	KeyID          = "token-id"
	KeySecret      = "token-secret"
	KeyExpiration  = "expiration"
	KeyDescription = "description"
	KeyUsageAuth   = "usage-bootstrap-authentication"
	KeyUsageSign   = "usage-bootstrap-signing"
	KeyExtraGroups = "auth-extra-groups"
	// Group holds every bootstrap token user; extra groups must start with
	// Group + ":".
	Group = "system:bootstrappers"
	// UserPrefix starts the user name: "system:bootstrap:<id>".
	UserPrefix = "system:bootstrap:"
)

// alphabet is the characters of token ids and secrets.
const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// Parse splits "<id>.<secret>" (6 and 16 characters of [a-z0-9]).
func Parse(token string) (id, secret string, ok bool) {
	id, secret, ok = strings.Cut(token, ".")
	if !ok || len(id) != 6 || len(secret) != 16 || !valid(id) || !valid(secret) {
		return "", "", false
	}
	return id, secret, true
}

func valid(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune(alphabet, c) {
			return false
		}
	}
	return true
}

// Generate returns a new random token "<id>.<secret>".
func Generate() (string, error) {
	b := make([]byte, 22)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a bootstrap token: %w", err)
	}
	out := make([]byte, 0, 23)
	for i, c := range b {
		if i == 6 {
			out = append(out, '.')
		}
		// 256 % 36 = 4: a negligible bias, as upstream accepts.
		out = append(out, alphabet[int(c)%len(alphabet)])
	}
	return string(out), nil
}

// Secret returns the Secret that makes token valid for authentication
// until now+ttl (no expiry when ttl is 0), with extra groups (each must
// start with "system:bootstrappers:").
func Secret(token, description string, ttl time.Duration, now time.Time, extraGroups []string) (*corev1.Secret, error) {
	id, secret, ok := Parse(token)
	if !ok {
		return nil, errors.New("bootstrap token must look like [a-z0-9]{6}.[a-z0-9]{16}")
	}
	for _, g := range extraGroups {
		if !strings.HasPrefix(g, Group+":") {
			return nil, fmt.Errorf("bootstrap token extra group %q must start with %q", g, Group+":")
		}
	}
	data := map[string]string{KeyID: id, KeySecret: secret, KeyUsageAuth: "true", KeyUsageSign: "true"}
	if description != "" {
		data[KeyDescription] = description
	}
	if ttl > 0 {
		data[KeyExpiration] = now.Add(ttl).UTC().Format(time.RFC3339)
	}
	if len(extraGroups) > 0 {
		data[KeyExtraGroups] = strings.Join(extraGroups, ",")
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: SecretPrefix + id, Namespace: Namespace},
		Type:       SecretType,
		StringData: data,
	}, nil
}

// SecretGetter reads a Secret; a missing one is (nil, nil).
type SecretGetter func(ctx context.Context, namespace, name string) (*corev1.Secret, error)

// Authenticator accepts bootstrap tokens backed by a valid Secret.
type Authenticator struct {
	Secrets SecretGetter
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ auth.TokenAuthenticator = (*Authenticator)(nil)

// errInvalid is returned for a well-formed token that is not valid; the
// reason is not told to the client.
var errInvalid = errors.New("invalid bootstrap token")

// AuthenticateToken implements auth.TokenAuthenticator. Tokens not shaped
// like bootstrap tokens get no opinion; bootstrap tokens carry no audience.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string, want []string) (*auth.User, []string, bool, error) {
	id, secret, ok := Parse(token)
	if !ok {
		return nil, nil, false, nil
	}
	s, err := a.Secrets(ctx, Namespace, SecretPrefix+id)
	if err != nil {
		return nil, nil, false, fmt.Errorf("bootstrap token: %w", err)
	}
	if s == nil || s.Type != SecretType || s.DeletionTimestamp != nil {
		return nil, nil, false, errInvalid
	}
	if string(s.Data[KeyID]) != id || subtle.ConstantTimeCompare(s.Data[KeySecret], []byte(secret)) != 1 ||
		string(s.Data[KeyUsageAuth]) != "true" {
		return nil, nil, false, errInvalid
	}
	if exp := string(s.Data[KeyExpiration]); exp != "" {
		t, err := time.Parse(time.RFC3339, exp)
		now := time.Now
		if a.Now != nil {
			now = a.Now
		}
		if err != nil || !now().Before(t) {
			return nil, nil, false, errInvalid
		}
	}
	groups := []string{Group}
	for g := range strings.SplitSeq(string(s.Data[KeyExtraGroups]), ",") {
		if g = strings.TrimSpace(g); strings.HasPrefix(g, Group+":") {
			groups = append(groups, g)
		}
	}
	groups = append(groups, auth.GroupAuthenticated)
	return &auth.User{Name: UserPrefix + id, Groups: groups}, want, true, nil
}
