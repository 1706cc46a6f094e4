package bootstraptoken

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestParseAndGenerate(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"abcdef.0123456789abcdef", true},
		{"ABCDEF.0123456789abcdef", false},
		{"abcde.0123456789abcdef", false},
		{"abcdef.0123456789abcde", false},
		{"abcdef0123456789abcdef", false},
		{"abcdef.0123456789abcdef.x", false},
		{"", false},
	} {
		if _, _, ok := Parse(tc.in); ok != tc.ok {
			t.Errorf("Parse(%q) ok = %v", tc.in, ok)
		}
	}
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate()
	if _, _, ok := Parse(a); !ok || a == b {
		t.Errorf("Generate = %q, %q", a, b)
	}
}

// secretOf turns Secret's StringData into Data, as the API server does.
func secretOf(t *testing.T, token string, ttl time.Duration, now time.Time, groups []string) *corev1.Secret {
	t.Helper()
	s, err := Secret(token, "test", ttl, now, groups)
	if err != nil {
		t.Fatal(err)
	}
	s.Data = map[string][]byte{}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	return s
}

func TestAuthenticate(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	const token = "abcdef.0123456789abcdef"
	valid := secretOf(t, token, time.Hour, now, []string{"system:bootstrappers:workers"})
	wrongType := valid.DeepCopy()
	wrongType.Type = corev1.SecretTypeOpaque
	noAuth := valid.DeepCopy()
	noAuth.Data[KeyUsageAuth] = []byte("false")
	cases := []struct {
		name   string
		token  string
		secret *corev1.Secret
		at     time.Time
		ok     bool
		err    bool
	}{
		{name: "valid", token: token, secret: valid, at: now, ok: true},
		{name: "expired", token: token, secret: valid, at: now.Add(time.Hour), err: true},
		{name: "no expiry", token: token, secret: secretOf(t, token, 0, now, nil), at: now.Add(1000 * time.Hour), ok: true},
		{name: "wrong secret", token: "abcdef.0123456789abcdeg", secret: valid, at: now, err: true},
		{name: "missing", token: token, at: now, err: true},
		{name: "wrong type", token: token, secret: wrongType, at: now, err: true},
		{name: "not for authentication", token: token, secret: noAuth, at: now, err: true},
		{name: "not a bootstrap token", token: "eyJhbGc.x.y", secret: valid, at: now},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &Authenticator{
				Secrets: func(_ context.Context, ns, name string) (*corev1.Secret, error) {
					if tc.secret == nil || ns != Namespace || name != "bootstrap-token-abcdef" {
						return nil, nil
					}
					return tc.secret, nil
				},
				Now: func() time.Time { return tc.at },
			}
			u, _, ok, err := a.AuthenticateToken(context.Background(), tc.token, nil)
			if ok != tc.ok || (err != nil) != tc.err {
				t.Fatalf("ok=%v err=%v", ok, err)
			}
			if ok && (u.Name != "system:bootstrap:abcdef" || u.Groups[0] != Group || u.Groups[len(u.Groups)-1] != "system:authenticated") {
				t.Errorf("user = %+v", u)
			}
			if ok && tc.name == "valid" && strings.Join(u.Groups, ",") != "system:bootstrappers,system:bootstrappers:workers,system:authenticated" {
				t.Errorf("groups = %v", u.Groups)
			}
		})
	}
	if _, err := Secret(token, "", 0, now, []string{"system:masters"}); err == nil {
		t.Error("extra group outside system:bootstrappers accepted")
	}
}
