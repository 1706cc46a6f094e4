package serviceaccount

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func legacyClaims() LegacyClaims {
	return LegacyClaims{Namespace: "ns", SecretName: "s1", ServiceAccountName: "sa", ServiceAccountUID: "u1"}
}

func TestLegacyClaimsOnTheWire(t *testing.T) {
	k := testKeys(t)
	token, err := k.SignLegacy(legacyClaims())
	if err != nil {
		t.Fatal(err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"iss":                                    "kubernetes/serviceaccount",
		"sub":                                    "system:serviceaccount:ns:sa",
		"kubernetes.io/serviceaccount/namespace": "ns",
		"kubernetes.io/serviceaccount/secret.name":          "s1",
		"kubernetes.io/serviceaccount/service-account.name": "sa",
		"kubernetes.io/serviceaccount/service-account.uid":  "u1",
	}
	if len(got) != len(want) {
		t.Errorf("claims = %v, want exactly %v", got, want)
	}
	for key, v := range want {
		if got[key] != v {
			t.Errorf("claim %s = %v, want %v", key, got[key], v)
		}
	}
}

func TestVerifyLegacy(t *testing.T) {
	k := testKeys(t)
	good, err := k.SignLegacy(legacyClaims())
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKeys, _ := NewKeys(other, DefaultIssuer, nil)
	foreign, _ := otherKeys.SignLegacy(legacyClaims())
	now := time.Now()
	bound, _ := k.Sign(Claims{Namespace: "ns", ServiceAccount: Ref{Name: "sa", UID: "u1"}, Audience: []string{"a"}, IssuedAt: now, Expiry: now.Add(time.Hour)})
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"kubernetes/serviceaccount"}`)) + "." + parts[2]
	tests := []struct {
		name    string
		token   string
		wantErr error // nil: valid
	}{
		{"valid", good, nil},
		{"other key", foreign, ErrNotServiceAccountToken},
		{"bound token", bound, ErrNotServiceAccountToken},
		{"tampered payload", tampered, ErrNotServiceAccountToken},
		{"not a JWT", "abc.def", ErrNotServiceAccountToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := k.VerifyLegacy(tt.token)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && *c != legacyClaims() {
				t.Errorf("claims = %+v", *c)
			}
		})
	}
	// And the bound-token Verify does not take a legacy token.
	if _, err := k.Verify(good, now); !errors.Is(err, ErrNotServiceAccountToken) {
		t.Errorf("Verify(legacy) err = %v, want ErrNotServiceAccountToken", err)
	}
}

func TestSignLegacyRefusesMissingClaims(t *testing.T) {
	k := testKeys(t)
	for _, mutate := range []func(*LegacyClaims){
		func(c *LegacyClaims) { c.Namespace = "" },
		func(c *LegacyClaims) { c.SecretName = "" },
		func(c *LegacyClaims) { c.ServiceAccountName = "" },
		func(c *LegacyClaims) { c.ServiceAccountUID = "" },
	} {
		c := legacyClaims()
		mutate(&c)
		if _, err := k.SignLegacy(c); err == nil {
			t.Errorf("SignLegacy(%+v) succeeded", c)
		}
	}
}

func TestLegacyTokenMatches(t *testing.T) {
	k := testKeys(t)
	token, _ := k.SignLegacy(legacyClaims())
	other := legacyClaims()
	other.ServiceAccountUID = "u2"
	if !k.LegacyTokenMatches(token, legacyClaims()) {
		t.Error("token does not match its own claims")
	}
	if k.LegacyTokenMatches(token, other) {
		t.Error("token matches another service account UID")
	}
	if k.LegacyTokenMatches("garbage", legacyClaims()) {
		t.Error("garbage matches")
	}
}

// fakeLegacyLookup serves fixed objects.
type fakeLegacyLookup struct {
	saUID  string // "" means absent
	secret string // the Secret's token; "" means absent
	err    error
}

func (f fakeLegacyLookup) ServiceAccountUID(context.Context, string, string) (string, bool, error) {
	return f.saUID, f.saUID != "", f.err
}

func (f fakeLegacyLookup) SecretToken(context.Context, string, string) ([]byte, bool, error) {
	return []byte(f.secret), f.secret != "", f.err
}

func TestLegacyAuthenticator(t *testing.T) {
	k := testKeys(t)
	token, err := k.SignLegacy(legacyClaims())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		token    string
		lookup   fakeLegacyLookup
		want     []string
		ok       bool
		wantErr  bool
		wantAuds []string
	}{
		{"valid", token, fakeLegacyLookup{saUID: "u1", secret: token}, nil, true, false, []string{DefaultIssuer}},
		{"valid for the API audience", token, fakeLegacyLookup{saUID: "u1", secret: token}, []string{"x", DefaultIssuer}, true, false, []string{DefaultIssuer}},
		{"other audience", token, fakeLegacyLookup{saUID: "u1", secret: token}, []string{"x"}, false, true, nil},
		{"secret gone", token, fakeLegacyLookup{saUID: "u1"}, nil, false, true, nil},
		{"secret holds another token", token, fakeLegacyLookup{saUID: "u1", secret: token + "x"}, nil, false, true, nil},
		{"service account gone", token, fakeLegacyLookup{secret: token}, nil, false, true, nil},
		{"service account recreated", token, fakeLegacyLookup{saUID: "u2", secret: token}, nil, false, true, nil},
		{"lookup fails", token, fakeLegacyLookup{saUID: "u1", secret: token, err: errors.New("boom")}, nil, false, true, nil},
		{"not ours", "abc.def.ghi", fakeLegacyLookup{saUID: "u1", secret: token}, nil, false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &LegacyAuthenticator{Keys: k, Lookup: tt.lookup}
			user, auds, ok, err := a.AuthenticateToken(context.Background(), tt.token, tt.want)
			if ok != tt.ok || (err != nil) != tt.wantErr {
				t.Fatalf("ok=%v err=%v, want ok=%v err=%v", ok, err, tt.ok, tt.wantErr)
			}
			if !ok {
				return
			}
			if !slices.Equal(auds, tt.wantAuds) {
				t.Errorf("audiences = %v, want %v", auds, tt.wantAuds)
			}
			if user.Name != "system:serviceaccount:ns:sa" || user.UID != "u1" {
				t.Errorf("user = %+v", user)
			}
			wantGroups := []string{"system:serviceaccounts", "system:serviceaccounts:ns", "system:authenticated"}
			if !slices.Equal(user.Groups, wantGroups) {
				t.Errorf("groups = %v, want %v", user.Groups, wantGroups)
			}
		})
	}
}
