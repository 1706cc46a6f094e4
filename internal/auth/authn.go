package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
)

// Well-known group names.
const (
	// GroupAuthenticated is added to every authenticated user.
	GroupAuthenticated = "system:authenticated"
	// GroupMasters is the group that RBAC grants everything to.
	GroupMasters = "system:masters"
	// GroupUnauthenticated holds requests without credentials.
	GroupUnauthenticated = "system:unauthenticated"
	// UserAnonymous is the name of requests without credentials.
	UserAnonymous = "system:anonymous"
)

// User is the identity a request was authenticated as.
type User struct {
	// Name identifies the user ("admin", "system:node:n1").
	Name string
	// UID is a stable identifier, when the authenticator knows one.
	UID string
	// Groups the user belongs to.
	Groups []string
	// Extra holds additional authenticator-specific attributes.
	Extra map[string][]string
}

// Authenticator maps a request to a user.
type Authenticator interface {
	// Authenticate returns the user behind r. ok=false with a nil error
	// means this authenticator has no opinion (for example, the request
	// carries no credential of its kind); an error means the credential was
	// present but could not be checked or was invalid.
	Authenticate(r *http.Request) (user *User, ok bool, err error)
}

// Union tries its authenticators in order: the first that returns ok wins.
// When none does, the errors of all of them are returned joined.
type Union []Authenticator

// Authenticate implements Authenticator.
func (u Union) Authenticate(r *http.Request) (*User, bool, error) {
	var errs []error
	for _, a := range u {
		user, ok, err := a.Authenticate(r)
		if ok && err == nil {
			return user, true, nil
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return nil, false, errors.Join(errs...)
}

// withAuthenticatedGroup returns groups plus GroupAuthenticated, once.
func withAuthenticatedGroup(groups []string) []string {
	out := make([]string, 0, len(groups)+1)
	for _, g := range groups {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	if !slices.Contains(out, GroupAuthenticated) {
		out = append(out, GroupAuthenticated)
	}
	return out
}

// userKey is the context key of the authenticated user.
type userKey struct{}

// WithUser returns a context carrying u.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user stored by WithUser.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}

// TokenAuthenticator checks bearer tokens.
type TokenAuthenticator interface {
	// AuthenticateToken returns the user behind token and the audiences it
	// is valid for among want (the API server's own when want is empty;
	// authenticators without audiences return want). ok=false with a nil
	// error means the token is not of this authenticator's kind.
	AuthenticateToken(ctx context.Context, token string, want []string) (user *User, audiences []string, ok bool, err error)
}

// Bearer authenticates requests by their "Authorization: Bearer" token
// with a TokenAuthenticator, for the API server's own audiences.
type Bearer struct {
	Tokens TokenAuthenticator
}

// Authenticate implements Authenticator.
func (b Bearer) Authenticate(r *http.Request) (*User, bool, error) {
	token, ok := BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return nil, false, nil
	}
	u, _, ok, err := b.Tokens.AuthenticateToken(r.Context(), token, nil)
	return u, ok && err == nil, err
}

// TokenUnion tries its token authenticators in order: the first that
// accepts the token wins; otherwise the errors are returned joined.
type TokenUnion []TokenAuthenticator

// AuthenticateToken implements TokenAuthenticator.
func (u TokenUnion) AuthenticateToken(ctx context.Context, token string, want []string) (*User, []string, bool, error) {
	var errs []error
	for _, a := range u {
		user, auds, ok, err := a.AuthenticateToken(ctx, token, want)
		if ok && err == nil {
			return user, auds, true, nil
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return nil, nil, false, errors.Join(errs...)
}
