package encrypt

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/skiffkube/skiff/internal/storage"
)

// Status describes the configuration and which keys stored values use.
type Status struct {
	// ConfigPath is the configuration file ("" when none).
	ConfigPath string           `json:"configPath,omitempty"`
	Resources  []ResourceStatus `json:"resources"`
}

// ResourceStatus is one resources entry.
type ResourceStatus struct {
	Resources []string `json:"resources"`
	// WriteKey is "<provider>:<key name>" of new writes, or "identity".
	WriteKey string `json:"writeKey"`
	// Keys lists every "<provider>:<key name>" that can read.
	Keys []string `json:"keys"`
	// Stored counts the stored values by the key that sealed them
	// ("identity" for plaintext).
	Stored map[string]int64 `json:"stored"`
}

// RotateResult is what a rotation did.
type RotateResult struct {
	// NewKey is "<provider>:<key name>" of the key writes now use.
	NewKey string `json:"newKey"`
	// Rewritten counts the values re-encrypted with it.
	Rewritten int64  `json:"rewritten"`
	Status    Status `json:"status"`
}

// listPage bounds the values read at once while counting or rewriting.
const listPage = 500

// Status reports the configuration and counts stored values per key.
func (s *Store) Status(ctx context.Context) (Status, error) {
	s.mu.Lock()
	cfg := s.cfg
	s.mu.Unlock()
	return s.statusOf(ctx, cfg)
}

// statusOf describes cfg and counts the stored values per key.
func (s *Store) statusOf(ctx context.Context, cfg *Configuration) (Status, error) {
	st := Status{ConfigPath: s.path}
	for _, rc := range cfg.Resources {
		rs := ResourceStatus{Resources: rc.Resources, WriteKey: ProviderIdentity, Stored: map[string]int64{}}
		for j, p := range rc.Providers {
			name, keys, _ := p.name()
			if keys == nil {
				rs.Keys = append(rs.Keys, ProviderIdentity)
				continue
			}
			for k, key := range keys.Keys {
				rs.Keys = append(rs.Keys, name+":"+key.Name)
				if j == 0 && k == 0 {
					rs.WriteKey = name + ":" + key.Name
				}
			}
		}
		for _, res := range rc.Resources {
			prefix, _ := keyPrefix(res)
			err := s.eachRaw(ctx, prefix, func(kv storage.KeyValue) error {
				rs.Stored[KeyOf(kv.Value)]++
				return nil
			})
			if err != nil {
				return Status{}, err
			}
		}
		st.Resources = append(st.Resources, rs)
	}
	return st, nil
}

// Rotate adds a new key in front of the write provider of every resources
// entry that encrypts, saves the configuration file (before any value uses
// the key, so a restart can read them), switches writes to it and rewrites
// every stored value of those resources with it. Old keys stay configured
// to read history. A second server sharing the etcd must be given the new
// file and restarted before its next write (it reads the file at start).
func (s *Store) Rotate(ctx context.Context) (RotateResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, newKey, err := s.withNewKeys(s.cfg)
	if err != nil {
		return RotateResult{}, err
	}
	t, err := newTransformer(next, s.rand)
	if err != nil {
		return RotateResult{}, err
	}
	if s.path != "" {
		if err := WriteFile(s.path, next); err != nil {
			return RotateResult{}, err
		}
	}
	s.cfg = next
	s.t.Store(t)
	var n int64
	for _, rc := range next.Resources {
		for _, res := range rc.Resources {
			prefix, _ := keyPrefix(res)
			c, err := s.rewrite(ctx, t, prefix)
			n += c
			if err != nil {
				return RotateResult{NewKey: newKey, Rewritten: n}, err
			}
		}
	}
	st, err := s.statusOf(ctx, next)
	return RotateResult{NewKey: newKey, Rewritten: n, Status: st}, err
}

// withNewKeys copies cfg with a fresh key first in each keyed write
// provider.
func (s *Store) withNewKeys(cfg *Configuration) (*Configuration, string, error) {
	next := &Configuration{APIVersion: cfg.APIVersion, Kind: cfg.Kind}
	newKey := ""
	for _, rc := range cfg.Resources {
		rc.Providers = append([]ProviderConfig(nil), rc.Providers...)
		name, keys, _ := rc.Providers[0].name()
		if keys != nil {
			k, err := newKeyFor(name, keys.Keys, s.rand)
			if err != nil {
				return nil, "", err
			}
			fresh := &KeysConfig{Keys: append([]Key{k}, keys.Keys...)}
			if name == ProviderAESGCM {
				rc.Providers[0] = ProviderConfig{AESGCM: fresh}
			} else {
				rc.Providers[0] = ProviderConfig{Secretbox: fresh}
			}
			newKey = name + ":" + k.Name
		}
		next.Resources = append(next.Resources, rc)
	}
	if newKey == "" {
		return nil, "", errors.New("no resources are encrypted (every first provider is identity): nothing to rotate")
	}
	return next, newKey, next.Validate()
}

// newKeyFor makes a random 32-byte key named "key<N>", N one more than the
// largest such number in use.
func newKeyFor(provider string, existing []Key, rnd io.Reader) (Key, error) {
	n := len(existing)
	for _, k := range existing {
		if len(k.Name) > 3 && k.Name[:3] == "key" {
			if v, err := strconv.Atoi(k.Name[3:]); err == nil && v > n {
				n = v
			}
		}
	}
	secret := make([]byte, 32)
	if _, err := io.ReadFull(rnd, secret); err != nil {
		return Key{}, fmt.Errorf("generating a %s key: %w", provider, err)
	}
	return Key{Name: "key" + strconv.Itoa(n+1), Secret: base64.StdEncoding.EncodeToString(secret)}, nil
}

// rewrite re-encrypts every value under prefix not sealed with t's write
// key, with a compare-and-swap per value (a concurrent writer wins and
// already used the new key).
func (s *Store) rewrite(ctx context.Context, t *transformer, prefix string) (int64, error) {
	var n int64
	err := s.eachRaw(ctx, prefix, func(kv storage.KeyValue) error {
		r := t.ruleFor(kv.Key)
		if r == nil || r.write == nil || KeyOf(kv.Value) == r.write.provider+":"+r.write.name {
			return nil
		}
		_, err := storage.GuaranteedUpdate(ctx, s, kv.Key, func(cur storage.KeyValue) ([]byte, error) {
			return cur.Value, nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("re-encrypting %q: %w", kv.Key, err)
		}
		n++
		return nil
	})
	return n, err
}

// eachRaw calls fn with every raw value under prefix, a page at a time.
func (s *Store) eachRaw(ctx context.Context, prefix string, fn func(storage.KeyValue) error) error {
	opts := storage.ListOptions{Limit: listPage}
	for {
		res, err := s.inner.List(ctx, prefix, opts)
		if err != nil {
			return fmt.Errorf("listing %q: %w", prefix, err)
		}
		for _, kv := range res.Items {
			if err := fn(kv); err != nil {
				return err
			}
		}
		if !res.More || len(res.Items) == 0 {
			return nil
		}
		opts.Revision = res.Revision
		opts.StartKey = res.Items[len(res.Items)-1].Key + "\x00"
	}
}

// DefaultConfiguration encrypts secrets with a new random secretbox key
// and still reads plaintext secrets (identity), for clusters that stored
// some before encryption was on. A nil rnd means crypto/rand.
func DefaultConfiguration(rnd io.Reader) (*Configuration, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	k, err := newKeyFor(ProviderSecretbox, nil, rnd)
	if err != nil {
		return nil, err
	}
	return &Configuration{APIVersion: APIVersion, Kind: Kind, Resources: []ResourceConfig{{
		Resources: []string{"secrets"},
		Providers: []ProviderConfig{{Secretbox: &KeysConfig{Keys: []Key{k}}}, {Identity: &IdentityConfig{}}},
	}}}, nil
}

// EnsureFile loads path, or writes DefaultConfiguration there (mode 0600)
// when it does not exist; created reports the latter. A nil rnd means
// crypto/rand.
func EnsureFile(path string, rnd io.Reader) (cfg *Configuration, created bool, err error) {
	if _, err := os.Stat(path); err == nil {
		cfg, err := LoadFile(path)
		return cfg, false, err
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("encryption configuration: %w", err)
	}
	cfg, err = DefaultConfiguration(rnd)
	if err != nil {
		return nil, false, err
	}
	if err := WriteFile(path, cfg); err != nil {
		return nil, false, err
	}
	return cfg, true, nil
}

// WriteFile saves cfg to path atomically with mode 0600.
func WriteFile(path string, cfg *Configuration) error {
	data, err := cfg.Marshal()
	if err != nil {
		return fmt.Errorf("encoding encryption configuration: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".encryption-config-*")
	if err != nil {
		return fmt.Errorf("writing encryption configuration: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("writing encryption configuration: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing encryption configuration: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing encryption configuration: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing encryption configuration: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing encryption configuration: %w", err)
	}
	return nil
}
