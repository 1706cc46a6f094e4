package encrypt

import (
	"bytes"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func mustTransformer(t *testing.T, providers ...ProviderConfig) *transformer {
	t.Helper()
	c := &Configuration{APIVersion: APIVersion, Kind: Kind, Resources: []ResourceConfig{{Resources: []string{"secrets"}, Providers: providers}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	tr, err := newTransformer(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func gcm(names ...string) ProviderConfig {
	k := &KeysConfig{}
	for _, n := range names {
		k.Keys = append(k.Keys, Key{Name: n, Secret: key32})
	}
	return ProviderConfig{AESGCM: k}
}

func box(names ...string) ProviderConfig {
	k := &KeysConfig{}
	for _, n := range names {
		k.Keys = append(k.Keys, Key{Name: n, Secret: key32})
	}
	return ProviderConfig{Secretbox: k}
}

var identity = ProviderConfig{Identity: &IdentityConfig{}}

func TestTransformer(t *testing.T) {
	const key = "/registry/secrets/default/s"
	plain := []byte(`{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}`)
	tests := []struct {
		name       string
		writer     []ProviderConfig
		reader     []ProviderConfig
		key        string
		wantPrefix string
		wantErr    bool
	}{
		{"aesgcm", []ProviderConfig{gcm("k1")}, []ProviderConfig{gcm("k1")}, key, "k8s:enc:aesgcm:v1:k1:", false},
		{"secretbox", []ProviderConfig{box("k1")}, []ProviderConfig{box("k1")}, key, "k8s:enc:secretbox:v1:k1:", false},
		{"read with second key", []ProviderConfig{box("old")}, []ProviderConfig{box("new", "old")}, key, "k8s:enc:secretbox:v1:old:", false},
		{"read with second provider", []ProviderConfig{gcm("g")}, []ProviderConfig{box("b"), gcm("g")}, key, "k8s:enc:aesgcm:v1:g:", false},
		{"plaintext read by identity", []ProviderConfig{identity}, []ProviderConfig{box("b"), identity}, key, "{", false},
		{"plaintext refused without identity", []ProviderConfig{identity}, []ProviderConfig{box("b")}, key, "{", true},
		{"unknown key name", []ProviderConfig{box("x")}, []ProviderConfig{box("y"), identity}, key, "k8s:enc:secretbox:v1:x:", true},
		{"other resources untouched", []ProviderConfig{box("b")}, []ProviderConfig{box("b")}, "/registry/configmaps/default/c", "{", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, r := mustTransformer(t, tc.writer...), mustTransformer(t, tc.reader...)
			stored, err := w.toStorage(tc.key, plain)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(stored, []byte(tc.wantPrefix)) {
				t.Fatalf("stored %q, want prefix %q", stored, tc.wantPrefix)
			}
			if tc.wantPrefix != "{" && bytes.Contains(stored, []byte("aHVudGVyMg")) {
				t.Fatalf("stored value contains the plaintext: %q", stored)
			}
			got, err := r.fromStorage(tc.key, stored)
			if tc.wantErr {
				if !errors.Is(err, ErrDecrypt) {
					t.Fatalf("fromStorage error = %v, want ErrDecrypt", err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("fromStorage = %q, %v; want %q", got, err, plain)
			}
		})
	}
}

func TestTransformerTamperingDetected(t *testing.T) {
	for _, p := range []ProviderConfig{gcm("k"), box("k")} {
		tr := mustTransformer(t, p)
		stored, err := tr.toStorage("/registry/secrets/a/b", []byte("secret"))
		if err != nil {
			t.Fatal(err)
		}
		flipped := bytes.Clone(stored)
		flipped[len(flipped)-1] ^= 1
		if _, err := tr.fromStorage("/registry/secrets/a/b", flipped); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: flipped bit read without error (%v)", KeyOf(stored), err)
		}
		// AES-GCM binds the value to its key: moved elsewhere it fails.
		_, err = tr.fromStorage("/registry/secrets/a/other", stored)
		if strings.HasPrefix(string(stored), "k8s:enc:aesgcm") && !errors.Is(err, ErrDecrypt) {
			t.Errorf("aesgcm value moved to another key read without error")
		}
	}
}

func TestNoncesDiffer(t *testing.T) {
	tr := mustTransformer(t, gcm("k"))
	a, _ := tr.toStorage("/registry/secrets/a/b", []byte("same"))
	b, _ := tr.toStorage("/registry/secrets/a/b", []byte("same"))
	if bytes.Equal(a, b) {
		t.Fatal("two encryptions of one value are equal: nonce reused")
	}
}

func TestKeyOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"{}", "identity"},
		{"k8s:enc:aesgcm:v1:key2:xxxx", "aesgcm:key2"},
		{"k8s:enc:junk", "malformed"},
	}
	for _, tc := range tests {
		if got := KeyOf([]byte(tc.in)); got != tc.want {
			t.Errorf("KeyOf(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
