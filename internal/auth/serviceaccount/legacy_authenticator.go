package serviceaccount

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"

	"github.com/skiffkube/skiff/internal/auth"
)

// LegacyLookup reads the objects a Secret-based token depends on. An
// object being deleted counts as absent (found=false).
type LegacyLookup interface {
	// ServiceAccountUID is the UID of a service account.
	ServiceAccountUID(ctx context.Context, namespace, name string) (uid string, found bool, err error)
	// SecretToken is data["token"] of a Secret of type
	// kubernetes.io/service-account-token (found=false for another type).
	SecretToken(ctx context.Context, namespace, name string) (token []byte, found bool, err error)
}

// LegacyAuthenticator accepts the non-expiring tokens kept in service
// account token Secrets, while the Secret still holds that very token and
// the service account exists with the UID the token names.
type LegacyAuthenticator struct {
	Keys   *Keys
	Lookup LegacyLookup
}

var _ auth.TokenAuthenticator = (*LegacyAuthenticator)(nil)

// AuthenticateToken implements auth.TokenAuthenticator. Legacy tokens have
// no audience: they are good for the API server's own audiences only.
func (a *LegacyAuthenticator) AuthenticateToken(ctx context.Context, token string, want []string) (*auth.User, []string, bool, error) {
	c, err := a.Keys.VerifyLegacy(token)
	if errors.Is(err, ErrNotServiceAccountToken) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	auds := a.Keys.Audiences()
	if len(want) > 0 {
		auds = slices.DeleteFunc(slices.Clone(want), func(w string) bool { return !slices.Contains(a.Keys.Audiences(), w) })
		if len(auds) == 0 {
			return nil, nil, false, errors.New("legacy service account token: invalid audience")
		}
	}
	if err := a.checkAlive(ctx, c, token); err != nil {
		return nil, nil, false, err
	}
	return c.User(), auds, true, nil
}

// checkAlive confirms that the Secret still holds token and that the
// service account is the one the token names.
func (a *LegacyAuthenticator) checkAlive(ctx context.Context, c *LegacyClaims, token string) error {
	stored, found, err := a.Lookup.SecretToken(ctx, c.Namespace, c.SecretName)
	if err != nil {
		return fmt.Errorf("legacy service account token: looking up secret %q: %w", c.SecretName, err)
	}
	if !found || subtle.ConstantTimeCompare(stored, []byte(token)) != 1 {
		return fmt.Errorf("legacy service account token: secret %s/%s no longer holds this token", c.Namespace, c.SecretName)
	}
	uid, found, err := a.Lookup.ServiceAccountUID(ctx, c.Namespace, c.ServiceAccountName)
	if err != nil {
		return fmt.Errorf("legacy service account token: looking up service account %q: %w", c.ServiceAccountName, err)
	}
	if !found || uid != c.ServiceAccountUID {
		return fmt.Errorf("legacy service account token: service account %s/%s no longer exists", c.Namespace, c.ServiceAccountName)
	}
	return nil
}

// User is the identity the claims authenticate: the service account, in
// its groups.
func (c *LegacyClaims) User() *auth.User {
	return &auth.User{
		Name:   Username(c.Namespace, c.ServiceAccountName),
		UID:    c.ServiceAccountUID,
		Groups: []string{GroupAll, GroupAll + ":" + c.Namespace, auth.GroupAuthenticated},
		Extra:  map[string][]string{},
	}
}
