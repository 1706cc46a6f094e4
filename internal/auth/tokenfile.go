package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
)

// TokenFile authenticates bearer tokens listed in a static CSV file, the
// format of the upstream --token-auth-file flag: one line per token,
//
//	token,user,uid,"group1,group2"
//
// with the group column optional. Lines starting with # are comments.
// Tokens are compared in constant time.
type TokenFile struct {
	entries []tokenEntry
}

// tokenEntry is one line of the token file.
type tokenEntry struct {
	digest [sha256.Size]byte
	user   User
}

// LoadTokenFile reads and parses a token file.
func LoadTokenFile(path string) (*TokenFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load token file: %w", err)
	}
	defer f.Close()
	tf, err := ParseTokenFile(f)
	if err != nil {
		return nil, fmt.Errorf("load token file %s: %w", path, err)
	}
	return tf, nil
}

// ParseTokenFile parses token file content.
func ParseTokenFile(r io.Reader) (*TokenFile, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	tf := &TokenFile{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return tf, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		entry, err := parseTokenRecord(rec)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if _, dup := tf.lookup(entry.digest); dup {
			return nil, fmt.Errorf("line %d: duplicate token", line)
		}
		tf.entries = append(tf.entries, entry)
	}
}

// parseTokenRecord turns one CSV record into an entry.
func parseTokenRecord(rec []string) (tokenEntry, error) {
	if len(rec) < 3 {
		return tokenEntry{}, fmt.Errorf("want at least 3 columns (token,user,uid), got %d", len(rec))
	}
	token, name, uid := rec[0], strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
	switch {
	case token == "":
		return tokenEntry{}, errors.New("empty token")
	case strings.ContainsAny(token, " \t"):
		return tokenEntry{}, errors.New("token contains whitespace")
	case name == "":
		return tokenEntry{}, errors.New("empty user name")
	}
	var groups []string
	if len(rec) > 3 {
		for g := range strings.SplitSeq(rec[3], ",") {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
	}
	return tokenEntry{
		digest: sha256.Sum256([]byte(token)),
		user:   User{Name: name, UID: uid, Groups: withAuthenticatedGroup(groups)},
	}, nil
}

// Len returns the number of tokens.
func (tf *TokenFile) Len() int { return len(tf.entries) }

// Authenticate implements Authenticator for "Authorization: Bearer <token>".
// A request without a bearer token, or with a token not in the file, gets no
// opinion, so that other authenticators may still accept it.
func (tf *TokenFile) Authenticate(r *http.Request) (*User, bool, error) {
	token, ok := BearerToken(r.Header.Get("Authorization"))
	if !ok {
		return nil, false, nil
	}
	i, ok := tf.lookup(sha256.Sum256([]byte(token)))
	if !ok {
		return nil, false, nil
	}
	u := tf.entries[i].user
	u.Groups = slices.Clone(u.Groups)
	return &u, true, nil
}

// lookup finds the entry with digest, comparing against every entry so that
// the time taken does not depend on where (or whether) it matches.
func (tf *TokenFile) lookup(digest [sha256.Size]byte) (int, bool) {
	found := -1
	for i := range tf.entries {
		if subtle.ConstantTimeCompare(tf.entries[i].digest[:], digest[:]) == 1 {
			found = i
		}
	}
	return found, found >= 0
}

// BearerToken extracts the token of an Authorization header value of the
// form "Bearer <token>" (scheme case-insensitive). It reports false for any
// other form, including an empty token.
func BearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", false
	}
	return token, true
}

// AuthenticateToken implements TokenAuthenticator. Static tokens carry no
// audience: they are valid for whatever audiences are asked.
func (tf *TokenFile) AuthenticateToken(_ context.Context, token string, want []string) (*User, []string, bool, error) {
	i, ok := tf.lookup(sha256.Sum256([]byte(token)))
	if !ok {
		return nil, nil, false, nil
	}
	u := tf.entries[i].user
	u.Groups = slices.Clone(u.Groups)
	return &u, want, true, nil
}
