package encrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/crypto/nacl/secretbox"
)

// ErrDecrypt reports a stored value this configuration cannot open.
var ErrDecrypt = errors.New("encrypt: cannot decrypt stored value")

// encPrefix starts every encrypted value.
const encPrefix = "k8s:enc:"

// sealer is one named key of one provider.
type sealer struct {
	provider, name string
	seal           func(plain, aad []byte) ([]byte, error)
	open           func(sealed, aad []byte) ([]byte, error)
}

// prefix is what stored values sealed by s start with.
func (s *sealer) prefix() string { return encPrefix + s.provider + ":v1:" + s.name + ":" }

// rule is one resources entry compiled.
type rule struct {
	prefixes []string
	// write seals new values; nil writes plaintext (identity first).
	write *sealer
	// read holds every key by "<provider>:<name>".
	read map[string]*sealer
	// identity lets unprefixed values be read as plaintext.
	identity bool
}

// transformer applies a Configuration to keys and values.
type transformer struct {
	rules []rule
	rand  io.Reader
}

// newTransformer compiles c; random nonces come from rnd.
func newTransformer(c *Configuration, rnd io.Reader) (*transformer, error) {
	t := &transformer{rand: rnd}
	for i, rc := range c.Resources {
		r := rule{read: map[string]*sealer{}}
		for _, res := range rc.Resources {
			p, err := keyPrefix(res)
			if err != nil {
				return nil, fmt.Errorf("resources[%d]: %w", i, err)
			}
			r.prefixes = append(r.prefixes, p)
		}
		for j, pc := range rc.Providers {
			name, keys, err := pc.name()
			if err != nil {
				return nil, fmt.Errorf("resources[%d].providers[%d]: %w", i, j, err)
			}
			if keys == nil {
				r.identity = true
				continue
			}
			for k, key := range keys.Keys {
				s, err := t.newSealer(name, key)
				if err != nil {
					return nil, fmt.Errorf("resources[%d].providers[%d]: %w", i, j, err)
				}
				r.read[name+":"+key.Name] = s
				if j == 0 && k == 0 {
					r.write = s
				}
			}
		}
		t.rules = append(t.rules, r)
	}
	return t, nil
}

func (t *transformer) newSealer(provider string, k Key) (*sealer, error) {
	secret, err := decodeSecret(provider, k)
	if err != nil {
		return nil, err
	}
	s := &sealer{provider: provider, name: k.Name}
	switch provider {
	case ProviderAESGCM:
		block, err := aes.NewCipher(secret)
		if err != nil {
			return nil, fmt.Errorf("aesgcm key %q: %w", k.Name, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("aesgcm key %q: %w", k.Name, err)
		}
		s.seal, s.open = t.gcmSeal(aead), gcmOpen(aead)
	case ProviderSecretbox:
		var key [32]byte
		copy(key[:], secret)
		s.seal, s.open = t.boxSeal(&key), boxOpen(&key)
	default:
		return nil, fmt.Errorf("unknown provider %q", provider)
	}
	return s, nil
}

// gcmSeal returns nonce || ciphertext, the etcd key as additional data.
func (t *transformer) gcmSeal(aead cipher.AEAD) func(plain, aad []byte) ([]byte, error) {
	return func(plain, aad []byte) ([]byte, error) {
		out := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := io.ReadFull(t.rand, out); err != nil {
			return nil, fmt.Errorf("reading a nonce: %w", err)
		}
		return aead.Seal(out, out, plain, aad), nil
	}
}

func gcmOpen(aead cipher.AEAD) func(sealed, aad []byte) ([]byte, error) {
	return func(sealed, aad []byte) ([]byte, error) {
		n := aead.NonceSize()
		if len(sealed) < n {
			return nil, errors.New("value shorter than a nonce")
		}
		return aead.Open(nil, sealed[:n], sealed[n:], aad)
	}
}

// boxSeal returns nonce || secretbox.Seal.
func (t *transformer) boxSeal(key *[32]byte) func(plain, aad []byte) ([]byte, error) {
	return func(plain, _ []byte) ([]byte, error) {
		var nonce [24]byte
		if _, err := io.ReadFull(t.rand, nonce[:]); err != nil {
			return nil, fmt.Errorf("reading a nonce: %w", err)
		}
		return secretbox.Seal(nonce[:], plain, &nonce, key), nil
	}
}

func boxOpen(key *[32]byte) func(sealed, aad []byte) ([]byte, error) {
	return func(sealed, _ []byte) ([]byte, error) {
		if len(sealed) < 24 {
			return nil, errors.New("value shorter than a nonce")
		}
		var nonce [24]byte
		copy(nonce[:], sealed)
		out, ok := secretbox.Open(nil, sealed[24:], &nonce, key)
		if !ok {
			return nil, errors.New("authentication failed")
		}
		return out, nil
	}
}

// ruleFor is the first rule covering key, or nil.
func (t *transformer) ruleFor(key string) *rule {
	for i := range t.rules {
		for _, p := range t.rules[i].prefixes {
			if strings.HasPrefix(key, p) {
				return &t.rules[i]
			}
		}
	}
	return nil
}

// encrypts reports whether writes of key are sealed.
func (t *transformer) encrypts(key string) bool {
	r := t.ruleFor(key)
	return r != nil && r.write != nil
}

// toStorage seals value for key with the write key of its rule.
func (t *transformer) toStorage(key string, value []byte) ([]byte, error) {
	r := t.ruleFor(key)
	if r == nil || r.write == nil {
		return value, nil
	}
	sealed, err := r.write.seal(value, []byte(key))
	if err != nil {
		return nil, fmt.Errorf("encrypting %q: %w", key, err)
	}
	prefix := r.write.prefix()
	out := make([]byte, 0, len(prefix)+len(sealed))
	return append(append(out, prefix...), sealed...), nil
}

// fromStorage opens a stored value with the key its prefix names.
func (t *transformer) fromStorage(key string, value []byte) ([]byte, error) {
	if !bytes.HasPrefix(value, []byte(encPrefix)) {
		r := t.ruleFor(key)
		if r == nil || r.identity || r.write == nil {
			return value, nil
		}
		return nil, fmt.Errorf("%w %q: it is not encrypted and the identity provider is not configured", ErrDecrypt, key)
	}
	provider, name, sealed, err := splitPrefix(value)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrDecrypt, key, err)
	}
	r := t.ruleFor(key)
	if r == nil {
		return nil, fmt.Errorf("%w %q: no provider is configured for it", ErrDecrypt, key)
	}
	s, ok := r.read[provider+":"+name]
	if !ok {
		return nil, fmt.Errorf("%w %q: no %s key named %q is configured", ErrDecrypt, key, provider, name)
	}
	plain, err := s.open(sealed, []byte(key))
	if err != nil {
		return nil, fmt.Errorf("%w %q with %s key %q: %v", ErrDecrypt, key, provider, name, err)
	}
	return plain, nil
}

// splitPrefix parses "k8s:enc:<provider>:v1:<name>:<sealed>".
func splitPrefix(value []byte) (provider, name string, sealed []byte, err error) {
	rest := value[len(encPrefix):]
	parts := bytes.SplitN(rest, []byte(":"), 4)
	if len(parts) != 4 || string(parts[1]) != "v1" {
		return "", "", nil, errors.New("malformed encryption prefix")
	}
	return string(parts[0]), string(parts[2]), parts[3], nil
}

// KeyOf returns the "<provider>:<key name>" a stored value was sealed with,
// or "identity" for a plaintext value.
func KeyOf(value []byte) string {
	if !bytes.HasPrefix(value, []byte(encPrefix)) {
		return ProviderIdentity
	}
	provider, name, _, err := splitPrefix(value)
	if err != nil {
		return "malformed"
	}
	return provider + ":" + name
}
