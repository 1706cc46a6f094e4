package bootstraptoken

import (
	"strings"
	"testing"
)

// FuzzParse checks that an accepted token is exactly "<id>.<secret>" of
// the right lengths and alphabet, and that generated tokens parse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"abcdef.0123456789abcdef", "ABCDEF.0123456789abcdef", "abcdef.0123456789abcde", "abcdef0123456789abcdef", "abcdef.0123456789abcdef.x", "äbcdef.0123456789abcdef", ""} {
		f.Add(s)
	}
	g, err := Generate()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(g)
	f.Fuzz(func(t *testing.T, token string) {
		id, secret, ok := Parse(token)
		if !ok {
			if id != "" || secret != "" {
				t.Fatalf("refused %q gave %q %q", token, id, secret)
			}
			return
		}
		if id+"."+secret != token || len(id) != 6 || len(secret) != 16 {
			t.Fatalf("%q parsed as %q %q", token, id, secret)
		}
		for _, c := range id + secret {
			if !strings.ContainsRune(alphabet, c) {
				t.Fatalf("%q: character %q accepted", token, c)
			}
		}
	})
}
