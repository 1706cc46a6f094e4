package auth

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// The fuzz targets of the credential parsing paths: whatever a client
// sends in its Authorization header and whatever an operator writes in the
// token file, parsing never panics and keeps its invariants.

// FuzzBearerToken checks that an accepted header yields a non-empty token
// without blanks that round-trips through a canonical header.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  abc ", "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "BEARER\ttok", " Bearer x.y.z", "Bearer \u00a0x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		token, ok := BearerToken(header)
		if !ok {
			if token != "" {
				t.Fatalf("refused header %q returned token %q", header, token)
			}
			return
		}
		if token == "" || strings.ContainsAny(token, " \t") {
			t.Fatalf("header %q gave token %q", header, token)
		}
		if !strings.Contains(header, token) {
			t.Fatalf("token %q is not in header %q", token, header)
		}
		again, ok := BearerToken("Bearer " + token)
		if !ok || again != token {
			t.Fatalf("token %q does not round-trip: %q %v", token, again, ok)
		}
	})
}

// FuzzParseTokenFile checks that parsing any file content either fails or
// yields users with names and the authenticated group, and that a simple
// line's token authenticates its user.
func FuzzParseTokenFile(f *testing.F) {
	f.Add("tok1,alice,1\n#c\ntok2,bob,2,\"g1,g2\"\n", "tok", "carol")
	f.Add("\"a\"\"b\",x,y\n", "t,u", " dave ")
	f.Add(",,\n", "", "")
	f.Fuzz(func(t *testing.T, content, token, user string) {
		if tf, err := ParseTokenFile(strings.NewReader(content)); err == nil {
			for _, e := range tf.entries {
				if strings.TrimSpace(e.user.Name) == "" || !slices.Contains(e.user.Groups, GroupAuthenticated) {
					t.Fatalf("entry %+v of %q", e.user, content)
				}
			}
		}
		// A line that needs no quoting authenticates its own token.
		if token == "" || user == "" || strings.ContainsAny(token+user, ",\"\r\n#\t ") || !isPrintableASCII(token+user) {
			return
		}
		tf, err := ParseTokenFile(strings.NewReader(token + "," + user + ",uid-1\n"))
		if err != nil {
			t.Fatalf("line %q: %v", token+","+user, err)
		}
		u, _, ok, err := tf.AuthenticateToken(context.Background(), token, nil)
		if err != nil || !ok || u.Name != user || u.UID != "uid-1" {
			t.Fatalf("token %q: user %+v ok %v err %v", token, u, ok, err)
		}
		if _, _, ok, _ := tf.AuthenticateToken(context.Background(), token+"x", nil); ok {
			t.Fatalf("token %q accepted with a suffix", token)
		}
	})
}

func isPrintableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
