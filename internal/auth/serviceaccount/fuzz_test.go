package serviceaccount

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzVerifySignedText feeds Verify arbitrary tokens, seeded with a valid one and
// its mutations: it never panics, and it accepts only the signed header and
// payload (the signature covers their exact text).
func FuzzVerifySignedText(f *testing.F) {
	k, err := EnsureKeys(filepath.Join(f.TempDir(), "sa.key"), "", nil)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	good, err := k.Sign(Claims{Namespace: "ns", ServiceAccount: Ref{Name: "sa", UID: "u1"}, Audience: []string{"api"},
		IssuedAt: now, Expiry: now.Add(time.Hour), Pod: &Ref{Name: "p", UID: "u2"}})
	if err != nil {
		f.Fatal(err)
	}
	signed := good[:strings.LastIndex(good, ".")]
	f.Add(good)
	f.Add(good + "=")
	f.Add(strings.Replace(good, ".", "..", 1))
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		c, err := k.Verify(token, now)
		if err != nil {
			if c != nil {
				t.Fatalf("claims %+v returned with error %v", c, err)
			}
			return
		}
		if !strings.HasPrefix(token, signed+".") {
			t.Fatalf("accepted a token not signed by us: %q", token)
		}
		if c.Namespace != "ns" || c.ServiceAccount.Name != "sa" || c.Pod == nil || c.Pod.Name != "p" {
			t.Fatalf("claims %+v", c)
		}
	})
}
