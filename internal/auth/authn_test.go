package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

// fixed is an Authenticator with a canned answer.
type fixed struct {
	user *User
	ok   bool
	err  error
}

func (f fixed) Authenticate(*http.Request) (*User, bool, error) { return f.user, f.ok, f.err }

func TestUnion(t *testing.T) {
	errA, errB := errors.New("a failed"), errors.New("b failed")
	alice, bob := &User{Name: "alice"}, &User{Name: "bob"}
	cases := []struct {
		name  string
		union Union
		user  *User
		errs  []error
	}{
		{name: "empty", union: nil},
		{name: "all no opinion", union: Union{fixed{}, fixed{}}},
		{name: "first ok wins", union: Union{fixed{user: alice, ok: true}, fixed{user: bob, ok: true}}, user: alice},
		{name: "skips no opinion", union: Union{fixed{}, fixed{user: bob, ok: true}}, user: bob},
		{name: "ok after error wins", union: Union{fixed{err: errA}, fixed{user: bob, ok: true}}, user: bob},
		{name: "errors aggregated", union: Union{fixed{err: errA}, fixed{}, fixed{err: errB}}, errs: []error{errA, errB}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u, ok, err := c.union.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
			if ok != (c.user != nil) || u != c.user {
				t.Errorf("user=%v ok=%v, want %v", u, ok, c.user)
			}
			if (err != nil) != (len(c.errs) > 0) {
				t.Errorf("err = %v, want %v", err, c.errs)
			}
			for _, e := range c.errs {
				if !errors.Is(err, e) {
					t.Errorf("err %v does not wrap %v", err, e)
				}
			}
		})
	}
}

func TestUserContext(t *testing.T) {
	ctx := context.Background()
	if _, ok := UserFrom(ctx); ok {
		t.Fatal("user found in empty context")
	}
	if _, ok := UserFrom(WithUser(ctx, nil)); ok {
		t.Fatal("nil user reported as present")
	}
	u := &User{Name: "jane"}
	got, ok := UserFrom(WithUser(ctx, u))
	if !ok || got != u {
		t.Fatalf("UserFrom = %v, %v", got, ok)
	}
}
