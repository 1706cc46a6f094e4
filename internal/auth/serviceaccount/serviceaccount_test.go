package serviceaccount

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testKeys(t *testing.T) *Keys {
	t.Helper()
	k, err := EnsureKeys(filepath.Join(t.TempDir(), "sa.key"), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestEnsureKeysReuses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sa.key")
	a, err := EnsureKeys(path, "https://issuer", []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := EnsureKeys(path, "https://issuer", []string{"api"})
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != b.KeyID() || !a.PublicKey().Equal(b.PublicKey()) {
		t.Error("second EnsureKeys made a new key")
	}
	if got := a.Audiences(); len(got) != 1 || got[0] != "api" {
		t.Errorf("audiences = %v", got)
	}
	if got := testKeys(t).Audiences(); len(got) != 1 || got[0] != DefaultIssuer {
		t.Errorf("default audiences = %v", got)
	}
}

func TestSignVerify(t *testing.T) {
	k := testKeys(t)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	c := Claims{Namespace: "ns", ServiceAccount: Ref{Name: "sa", UID: "u1"}, Pod: &Ref{Name: "p", UID: "u2"},
		Audience: []string{"a", "b"}, IssuedAt: now, Expiry: now.Add(time.Hour)}
	token, err := k.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, _ := NewKeys(other, DefaultIssuer, nil)
	otherIssuer, _ := NewKeys(k.key, "https://elsewhere", nil)
	parts := strings.Split(token, ".")
	cases := []struct {
		name  string
		keys  *Keys
		token string
		at    time.Time
		want  error // nil: valid
	}{
		{"valid", k, token, now.Add(time.Minute), nil},
		{"expired", k, token, now.Add(time.Hour), ErrExpired},
		{"other key", otherKeys, token, now, ErrNotServiceAccountToken},
		{"other issuer", otherIssuer, token, now, ErrNotServiceAccountToken},
		{"tampered claims", k, parts[0] + "." + parts[1] + "x." + parts[2], now, ErrNotServiceAccountToken},
		{"not a JWT", k, "abcdef.0123456789abcdef", now, ErrNotServiceAccountToken},
		{"two parts", k, parts[0] + "." + parts[1], now, ErrNotServiceAccountToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.keys.Verify(tc.token, tc.at)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err != nil {
				return
			}
			if got.Namespace != "ns" || got.ServiceAccount != c.ServiceAccount || *got.Pod != *c.Pod ||
				strings.Join(got.Audience, ",") != "a,b" || !got.Expiry.Equal(c.Expiry) || got.ID == "" {
				t.Errorf("claims = %+v", got)
			}
		})
	}
}

// fakeLookup answers from maps of "namespace/name" → uid.
type fakeLookup map[string]string

func (f fakeLookup) get(kind, ns, name string) (string, bool, error) {
	uid, ok := f[kind+":"+ns+"/"+name]
	return uid, ok, nil
}
func (f fakeLookup) ServiceAccountUID(_ context.Context, ns, name string) (string, bool, error) {
	return f.get("sa", ns, name)
}
func (f fakeLookup) PodUID(_ context.Context, ns, name string) (string, bool, error) {
	return f.get("pod", ns, name)
}
func (f fakeLookup) SecretUID(_ context.Context, ns, name string) (string, bool, error) {
	return f.get("secret", ns, name)
}
func (f fakeLookup) NodeUID(_ context.Context, name string) (string, bool, error) {
	return f.get("node", "", name)
}

func TestAuthenticator(t *testing.T) {
	k := testKeys(t)
	now := time.Now()
	sign := func(c Claims) string {
		c.Namespace, c.ServiceAccount, c.IssuedAt, c.Expiry = "ns", Ref{Name: "sa", UID: "sa-1"}, now, now.Add(time.Hour)
		if c.Audience == nil {
			c.Audience = k.Audiences()
		}
		tok, err := k.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	alive := fakeLookup{"sa:ns/sa": "sa-1", "pod:ns/p": "pod-1"}
	cases := []struct {
		name   string
		token  string
		lookup fakeLookup
		want   []string
		ok     bool
		err    bool
	}{
		{name: "plain", token: sign(Claims{}), lookup: alive, ok: true},
		{name: "pod bound", token: sign(Claims{Pod: &Ref{Name: "p", UID: "pod-1"}}), lookup: alive, ok: true},
		{name: "pod gone", token: sign(Claims{Pod: &Ref{Name: "p", UID: "pod-1"}}), lookup: fakeLookup{"sa:ns/sa": "sa-1"}, err: true},
		{name: "pod recreated", token: sign(Claims{Pod: &Ref{Name: "p", UID: "pod-0"}}), lookup: alive, err: true},
		{name: "service account gone", token: sign(Claims{}), lookup: fakeLookup{}, err: true},
		{name: "wrong audience", token: sign(Claims{Audience: []string{"vault"}}), lookup: alive, err: true},
		{name: "asked audience", token: sign(Claims{Audience: []string{"vault"}}), lookup: alive, want: []string{"vault"}, ok: true},
		{name: "foreign token", token: "abc", lookup: alive},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &Authenticator{Keys: k, Lookup: tc.lookup}
			u, auds, ok, err := a.AuthenticateToken(context.Background(), tc.token, tc.want)
			if ok != tc.ok || (err != nil) != tc.err {
				t.Fatalf("ok=%v err=%v, want ok=%v err=%v", ok, err, tc.ok, tc.err)
			}
			if !ok {
				return
			}
			if u.Name != "system:serviceaccount:ns:sa" || u.UID != "sa-1" || len(auds) == 0 ||
				strings.Join(u.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:ns,system:authenticated" {
				t.Errorf("user %+v audiences %v", u, auds)
			}
		})
	}
}

// FuzzVerify feeds arbitrary tokens to the verifier: it must never panic
// nor accept anything but a token it signed.
func FuzzVerify(f *testing.F) {
	k, err := EnsureKeys(filepath.Join(f.TempDir(), "sa.key"), "", nil)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	good, err := k.Sign(Claims{Namespace: "ns", ServiceAccount: Ref{Name: "sa"}, Audience: []string{"a"}, IssuedAt: now, Expiry: now.Add(time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{good, "", ".", "..", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA", good + "x", "abcdef.0123456789abcdef"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := k.Verify(token, now)
		if err == nil && token != good {
			// Only re-encodings of the signed parts could pass; none are
			// expected from mutation.
			if c.Namespace != "ns" || c.ServiceAccount.Name != "sa" {
				t.Fatalf("accepted forged token %q: %+v", token, c)
			}
		}
	})
}
