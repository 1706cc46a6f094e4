package join

import (
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/auth/pki"
)

func TestTokenFormat(t *testing.T) {
	ca, err := pki.EnsureCA(t.TempDir(), "test", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := FormatToken(ca.CertPEM, "abcdef.0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := CAHash(ca.CertPEM)
	if tok != hash+"::abcdef.0123456789abcdef" || !strings.HasPrefix(hash, "sha256:") || len(hash) != 7+64 {
		t.Fatalf("token = %q", tok)
	}
	for _, tc := range []struct {
		in       string
		hash, bt string
		err      bool
	}{
		{in: tok, hash: hash, bt: "abcdef.0123456789abcdef"},
		{in: "abcdef.0123456789abcdef", bt: "abcdef.0123456789abcdef"},
		{in: "sha256:00::abcdef.0123456789abcdef", err: true},
		{in: "md5:" + strings.Repeat("0", 64) + "::abcdef.0123456789abcdef", err: true},
		{in: hash + "::nope", err: true},
		{in: "", err: true},
	} {
		h, bt, err := ParseToken(tc.in)
		if (err != nil) != tc.err || h != tc.hash || bt != tc.bt {
			t.Errorf("ParseToken(%q) = %q, %q, %v", tc.in, h, bt, err)
		}
	}
	if _, err := FormatToken(ca.CertPEM, "bad"); err == nil {
		t.Error("FormatToken accepted a malformed bootstrap token")
	}
}
