package encrypt

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"sigs.k8s.io/yaml"
)

// File format constants of an EncryptionConfiguration.
const (
	APIVersion = "apiserver.config.k8s.io/v1"
	Kind       = "EncryptionConfiguration"
)

// Configuration is an EncryptionConfiguration file.
type Configuration struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Resources lists resource sets and the providers that encrypt them;
	// the first set naming a resource applies to it.
	Resources []ResourceConfig `json:"resources"`
}

// ResourceConfig pairs resources with their providers.
type ResourceConfig struct {
	// Resources are "secrets", "<resource>.<group>", "*.<group>" or "*.*".
	Resources []string `json:"resources"`
	// Providers: the first one encrypts writes, all of them decrypt.
	Providers []ProviderConfig `json:"providers"`
}

// ProviderConfig sets exactly one provider.
type ProviderConfig struct {
	AESGCM    *KeysConfig     `json:"aesgcm,omitempty"`
	Secretbox *KeysConfig     `json:"secretbox,omitempty"`
	Identity  *IdentityConfig `json:"identity,omitempty"`
}

// KeysConfig holds a provider's keys; the first one encrypts.
type KeysConfig struct {
	Keys []Key `json:"keys"`
}

// Key is a named base64-encoded secret key.
type Key struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
}

// IdentityConfig is the identity provider's (empty) settings.
type IdentityConfig struct{}

// Provider names as they appear in stored prefixes.
const (
	ProviderAESGCM    = "aesgcm"
	ProviderSecretbox = "secretbox"
	ProviderIdentity  = "identity"
)

// name returns the provider's name and keys.
func (p ProviderConfig) name() (string, *KeysConfig, error) {
	set := 0
	var name string
	var keys *KeysConfig
	if p.AESGCM != nil {
		set, name, keys = set+1, ProviderAESGCM, p.AESGCM
	}
	if p.Secretbox != nil {
		set, name, keys = set+1, ProviderSecretbox, p.Secretbox
	}
	if p.Identity != nil {
		set, name = set+1, ProviderIdentity
	}
	if set != 1 {
		return "", nil, fmt.Errorf("a provider entry must set exactly one of aesgcm, secretbox, identity (it sets %d)", set)
	}
	return name, keys, nil
}

// LoadFile reads and validates an EncryptionConfiguration file.
func LoadFile(path string) (*Configuration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading encryption configuration: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("encryption configuration %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes YAML or JSON strictly (unknown fields are errors) and
// validates the result.
func Parse(data []byte) (*Configuration, error) {
	var c Configuration
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Marshal encodes c as YAML.
func (c *Configuration) Marshal() ([]byte, error) {
	return yaml.Marshal(c)
}

// Validate checks the header, resource names, providers and keys.
func (c *Configuration) Validate() error {
	if c.APIVersion != APIVersion || c.Kind != Kind {
		return fmt.Errorf("want apiVersion %s and kind %s, got %q %q", APIVersion, Kind, c.APIVersion, c.Kind)
	}
	if len(c.Resources) == 0 {
		return errors.New("resources: at least one entry is required")
	}
	for i, rc := range c.Resources {
		if len(rc.Resources) == 0 {
			return fmt.Errorf("resources[%d]: no resources listed", i)
		}
		for _, r := range rc.Resources {
			if _, err := keyPrefix(r); err != nil {
				return fmt.Errorf("resources[%d]: %w", i, err)
			}
		}
		if len(rc.Providers) == 0 {
			return fmt.Errorf("resources[%d]: no providers listed", i)
		}
		for j, p := range rc.Providers {
			if err := validateProvider(p); err != nil {
				return fmt.Errorf("resources[%d].providers[%d]: %w", i, j, err)
			}
		}
	}
	return nil
}

func validateProvider(p ProviderConfig) error {
	name, keys, err := p.name()
	if err != nil || keys == nil {
		return err
	}
	if len(keys.Keys) == 0 {
		return fmt.Errorf("%s: at least one key is required", name)
	}
	seen := map[string]bool{}
	for _, k := range keys.Keys {
		if k.Name == "" || strings.Contains(k.Name, ":") {
			return fmt.Errorf("%s: key name %q must be non-empty and contain no colon", name, k.Name)
		}
		if seen[k.Name] {
			return fmt.Errorf("%s: duplicate key name %q", name, k.Name)
		}
		seen[k.Name] = true
		if _, err := decodeSecret(name, k); err != nil {
			return err
		}
	}
	return nil
}

// decodeSecret decodes a key and checks its length for the provider.
func decodeSecret(provider string, k Key) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(k.Secret)
	if err != nil {
		return nil, fmt.Errorf("%s key %q: secret is not base64: %w", provider, k.Name, err)
	}
	switch provider {
	case ProviderAESGCM:
		if len(b) != 16 && len(b) != 24 && len(b) != 32 {
			return nil, fmt.Errorf("aesgcm key %q: secret must be 16, 24 or 32 bytes, got %d", k.Name, len(b))
		}
	case ProviderSecretbox:
		if len(b) != 32 {
			return nil, fmt.Errorf("secretbox key %q: secret must be 32 bytes, got %d", k.Name, len(b))
		}
	}
	return b, nil
}

// keyPrefix maps a resource name of the file to the storage key prefix it
// covers: "secrets" → "/registry/secrets/", "deployments.apps" →
// "/registry/apps/deployments/", "*.apps" → "/registry/apps/", "*.*" →
// "/registry/".
func keyPrefix(resource string) (string, error) {
	switch {
	case resource == "":
		return "", errors.New("empty resource name")
	case resource == "*.*":
		return "/registry/", nil
	case resource == "*.":
		return "", errors.New(`"*." (every core resource) is not supported; list the core resources by name`)
	case strings.HasPrefix(resource, "*."):
		return "/registry/" + strings.TrimPrefix(resource, "*.") + "/", nil
	case strings.Contains(resource, "*"):
		return "", fmt.Errorf("resource %q: wildcards are only allowed as *.<group> or *.*", resource)
	}
	res, group, ok := strings.Cut(resource, ".")
	if !ok || group == "" {
		return "/registry/" + res + "/", nil
	}
	return "/registry/" + group + "/" + res + "/", nil
}
