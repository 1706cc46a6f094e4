package auth

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const sampleTokens = `# token,user,uid,groups
abc123,admin,uid-1,"system:masters,ops"
  def456,jane,uid-2
ghi789,bot,,"  ci , ,deploy"
`

func TestParseTokenFile(t *testing.T) {
	cases := []struct {
		name    string
		content string
		len     int
		wantErr string
	}{
		{name: "sample", content: sampleTokens, len: 3},
		{name: "empty", content: "", len: 0},
		{name: "only comments", content: "# nothing\n\n", len: 0},
		{name: "too few columns", content: "abc,admin\n", wantErr: "line 1: want at least 3 columns"},
		{name: "empty token", content: "ok,u,1\n,admin,1\n", wantErr: "line 2: empty token"},
		{name: "empty user", content: "abc, ,1\n", wantErr: "empty user name"},
		{name: "token with space", content: "a b,admin,1\n", wantErr: "whitespace"},
		{name: "duplicate", content: "abc,a,1\nabc,b,2\n", wantErr: "line 2: duplicate token"},
		{name: "bad quoting", content: "abc,a,1,\"g1\n", wantErr: "line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tf, err := ParseTokenFile(strings.NewReader(c.content))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tf.Len() != c.len {
				t.Errorf("Len = %d, want %d", tf.Len(), c.len)
			}
		})
	}
}

func TestTokenFileAuthenticate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(path, []byte(sampleTokens), 0o600); err != nil {
		t.Fatal(err)
	}
	tf, err := LoadTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		header []string // Authorization values; nil: no header
		ok     bool
		user   User
	}{
		{name: "no header"},
		{name: "admin", header: []string{"Bearer abc123"}, ok: true,
			user: User{Name: "admin", UID: "uid-1", Groups: []string{"system:masters", "ops", GroupAuthenticated}}},
		{name: "scheme case-insensitive, extra spaces", header: []string{"  bearer   def456 "}, ok: true,
			user: User{Name: "jane", UID: "uid-2", Groups: []string{GroupAuthenticated}}},
		{name: "groups trimmed, empty uid", header: []string{"Bearer ghi789"}, ok: true,
			user: User{Name: "bot", Groups: []string{"ci", "deploy", GroupAuthenticated}}},
		{name: "unknown token", header: []string{"Bearer nope"}},
		{name: "prefix of a token", header: []string{"Bearer abc12"}},
		{name: "token with suffix", header: []string{"Bearer abc1234"}},
		{name: "basic scheme", header: []string{"Basic YWRtaW46cGFzcw=="}},
		{name: "scheme only", header: []string{"Bearer"}},
		{name: "scheme and space", header: []string{"Bearer "}},
		{name: "no scheme", header: []string{"abc123"}},
		{name: "two tokens", header: []string{"Bearer abc123 def456"}},
		{name: "empty header", header: []string{""}},
		{name: "binary junk", header: []string{"Bearer \x00\xff"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			for _, h := range c.header {
				r.Header.Add("Authorization", h)
			}
			u, ok, err := tf.Authenticate(r)
			if err != nil || ok != c.ok {
				t.Fatalf("ok=%v err=%v, want ok=%v", ok, err, c.ok)
			}
			if !ok {
				return
			}
			if u.Name != c.user.Name || u.UID != c.user.UID || !slices.Equal(u.Groups, c.user.Groups) {
				t.Errorf("user = %+v, want %+v", *u, c.user)
			}
			u.Groups[0] = "mutated" // must not leak into the next call
		})
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer abc123")
	if u, _, _ := tf.Authenticate(r); u.Groups[0] != "system:masters" {
		t.Errorf("returned groups share storage with the file: %v", u.Groups)
	}
}

func TestLoadTokenFileMissing(t *testing.T) {
	if _, err := LoadTokenFile(filepath.Join(t.TempDir(), "absent.csv")); err == nil {
		t.Fatal("LoadTokenFile of a missing file succeeded")
	}
}

func FuzzBearerHeader(f *testing.F) {
	tf, err := ParseTokenFile(strings.NewReader(sampleTokens))
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"Bearer abc123", "bearer  def456", "Bearer", "Bearer ", "Basic x", "", " \t", "Bearer a b", "Bearer \x00"} {
		f.Add(seed)
	}
	known := map[string]string{"abc123": "admin", "def456": "jane", "ghi789": "bot"}
	f.Fuzz(func(t *testing.T, header string) {
		token, ok := BearerToken(header)
		if ok && (token == "" || strings.ContainsAny(token, " \t")) {
			t.Fatalf("BearerToken(%q) = %q, true", header, token)
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{header}
		u, authed, err := tf.Authenticate(r)
		if err != nil {
			t.Fatalf("Authenticate(%q): %v", header, err)
		}
		if !authed {
			return
		}
		if !ok || known[token] != u.Name {
			t.Fatalf("header %q authenticated as %q (token %q, parsed %v)", header, u.Name, token, ok)
		}
	})
}
