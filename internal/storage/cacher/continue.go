package cacher

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// continueTokenVersion is the "v" of the continue tokens we issue and accept
// (the format upstream apiservers use, so tokens look familiar to clients).
const continueTokenVersion = "meta.k8s.io/v1"

// continueToken is the JSON inside a continue string.
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	// StartKey is the first key of the next page, relative to the list's
	// key prefix.
	StartKey string `json:"start"`
}

// encodeContinue returns the token that resumes a list of keyPrefix at
// revision rev from nextKey (a full key).
func encodeContinue(nextKey, keyPrefix string, rev int64) (string, error) {
	if !strings.HasPrefix(nextKey, keyPrefix) {
		return "", fmt.Errorf("cacher: continue key %q is outside prefix %q", nextKey, keyPrefix)
	}
	b, err := json.Marshal(continueToken{
		APIVersion:      continueTokenVersion,
		ResourceVersion: rev,
		StartKey:        strings.TrimPrefix(nextKey, keyPrefix),
	})
	if err != nil {
		return "", fmt.Errorf("cacher: encode continue token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decodeContinue returns the full start key and revision of a token. It
// refuses start keys that would climb out of keyPrefix.
func decodeContinue(token, keyPrefix string) (string, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", 0, fmt.Errorf("continue key is not valid: %w", err)
	}
	var t continueToken
	if err := json.Unmarshal(b, &t); err != nil {
		return "", 0, fmt.Errorf("continue key is not valid: %w", err)
	}
	if t.APIVersion != continueTokenVersion {
		return "", 0, fmt.Errorf("continue key %q is not supported", t.APIVersion)
	}
	if t.ResourceVersion <= 0 {
		return "", 0, fmt.Errorf("continue key is not valid: resource version %d", t.ResourceVersion)
	}
	if t.StartKey == "" {
		return "", 0, fmt.Errorf("continue key is not valid: empty start key")
	}
	rooted := "/" + strings.TrimPrefix(t.StartKey, "/")
	if path.Clean(rooted) != rooted {
		return "", 0, fmt.Errorf("continue key is not valid: start key %q", t.StartKey)
	}
	return keyPrefix + t.StartKey, t.ResourceVersion, nil
}
