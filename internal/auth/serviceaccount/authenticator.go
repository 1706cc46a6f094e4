package serviceaccount

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/skiffkube/skiff/internal/auth"
)

// Groups of service accounts.
const (
	// GroupAll holds every service account.
	GroupAll = "system:serviceaccounts"
	// Extra keys of a service account user, as upstream names them.
	ExtraPodName      = "authentication.kubernetes.io/pod-name"
	ExtraPodUID       = "authentication.kubernetes.io/pod-uid"
	ExtraNodeName     = "authentication.kubernetes.io/node-name"
	ExtraNodeUID      = "authentication.kubernetes.io/node-uid"
	ExtraCredentialID = "authentication.kubernetes.io/credential-id"
)

// Lookup reports the UIDs of the objects a token names, so that a token
// stops working once its service account or bound object is gone (or was
// replaced by one of the same name). found=false means absent.
type Lookup interface {
	ServiceAccountUID(ctx context.Context, namespace, name string) (uid string, found bool, err error)
	PodUID(ctx context.Context, namespace, name string) (uid string, found bool, err error)
	SecretUID(ctx context.Context, namespace, name string) (uid string, found bool, err error)
	NodeUID(ctx context.Context, name string) (uid string, found bool, err error)
}

// Authenticator accepts service account tokens signed by Keys.
type Authenticator struct {
	Keys   *Keys
	Lookup Lookup
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ auth.TokenAuthenticator = (*Authenticator)(nil)

// AuthenticateToken implements auth.TokenAuthenticator.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string, want []string) (*auth.User, []string, bool, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	c, err := a.Keys.Verify(token, now())
	if errors.Is(err, ErrNotServiceAccountToken) {
		return nil, nil, false, nil
	}
	if err != nil {
		return nil, nil, false, err
	}
	if len(want) == 0 {
		want = a.Keys.Audiences()
	}
	var auds []string
	for _, w := range want {
		if slices.Contains(c.Audience, w) {
			auds = append(auds, w)
		}
	}
	if len(auds) == 0 {
		return nil, nil, false, errors.New("service account token: invalid audience")
	}
	if err := a.checkAlive(ctx, c); err != nil {
		return nil, nil, false, err
	}
	return c.User(), auds, true, nil
}

// checkAlive confirms that the service account and the bound object exist
// with the UIDs the token names.
func (a *Authenticator) checkAlive(ctx context.Context, c *Claims) error {
	check := func(what string, ref *Ref, get func() (string, bool, error)) error {
		uid, found, err := get()
		if err != nil {
			return fmt.Errorf("service account token: looking up %s %q: %w", what, ref.Name, err)
		}
		if !found || (ref.UID != "" && uid != ref.UID) {
			return fmt.Errorf("service account token: %s %q no longer exists", what, ref.Name)
		}
		return nil
	}
	sa := c.ServiceAccount
	if err := check("service account", &sa, func() (string, bool, error) {
		return a.Lookup.ServiceAccountUID(ctx, c.Namespace, sa.Name)
	}); err != nil {
		return err
	}
	switch {
	case c.Pod != nil:
		return check("pod", c.Pod, func() (string, bool, error) { return a.Lookup.PodUID(ctx, c.Namespace, c.Pod.Name) })
	case c.Secret != nil:
		return check("secret", c.Secret, func() (string, bool, error) { return a.Lookup.SecretUID(ctx, c.Namespace, c.Secret.Name) })
	case c.Node != nil:
		return check("node", c.Node, func() (string, bool, error) { return a.Lookup.NodeUID(ctx, c.Node.Name) })
	}
	return nil
}

// User is the identity the claims authenticate.
func (c *Claims) User() *auth.User {
	u := &auth.User{
		Name:   Username(c.Namespace, c.ServiceAccount.Name),
		UID:    c.ServiceAccount.UID,
		Groups: []string{GroupAll, GroupAll + ":" + c.Namespace, auth.GroupAuthenticated},
		Extra:  map[string][]string{},
	}
	if c.Pod != nil {
		u.Extra[ExtraPodName] = []string{c.Pod.Name}
		u.Extra[ExtraPodUID] = []string{c.Pod.UID}
	}
	if c.Node != nil {
		u.Extra[ExtraNodeName] = []string{c.Node.Name}
		if c.Node.UID != "" {
			u.Extra[ExtraNodeUID] = []string{c.Node.UID}
		}
	}
	if c.ID != "" {
		u.Extra[ExtraCredentialID] = []string{"JTI=" + c.ID}
	}
	return u
}
