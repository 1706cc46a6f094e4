package securitycheck

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// waitFor retries fn every 100ms for up to 10s (less if ctx ends first),
// returning its last error.
func waitFor(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func checkDataDirMode(_ context.Context, t *Target) Result {
	fi, err := os.Stat(t.DataDir)
	if err != nil {
		return fail("%v", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fail("%s has mode %#o, want 0700", t.DataDir, m)
	}
	return pass("%s has mode %#o", t.DataDir, fi.Mode().Perm())
}

// isSecretFile reports files that hold private keys or credentials.
func isSecretFile(path string) bool {
	base := filepath.Base(path)
	return strings.HasSuffix(base, ".key") || base == "kubeconfig" || base == "encryption-config.yaml" || base == "token"
}

func checkKeyModes(_ context.Context, t *Target) Result {
	var bad []string
	n := 0
	err := filepath.WalkDir(t.DataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "etcd" && path != t.DataDir {
			return fs.SkipDir // etcd's own files: 1.1.11/1.1.12 cover the directory
		}
		if d.IsDir() || !isSecretFile(path) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		n++
		if fi.Mode().Perm()&0o077 != 0 {
			bad = append(bad, fmt.Sprintf("%s (%#o)", path, fi.Mode().Perm()))
		}
		return nil
	})
	switch {
	case err != nil:
		return fail("walking %s: %v", t.DataDir, err)
	case len(bad) > 0:
		return fail("readable by others: %s", strings.Join(bad, ", "))
	case n == 0:
		return fail("no key files found under %s", t.DataDir)
	}
	return pass("%d key and credential files are private", n)
}

// encryptionConfigPath is where the server keeps its encryption config.
func (t *Target) encryptionConfigPath() string {
	return filepath.Join(t.DataDir, "encryption-config.yaml")
}

func checkEncryptionConfigFile(_ context.Context, t *Target) Result {
	path := t.encryptionConfigPath()
	fi, err := os.Stat(path)
	if err != nil {
		return fail("%v", err)
	}
	if m := fi.Mode().Perm(); m&0o077 != 0 {
		return fail("%s has mode %#o, want 0600", path, m)
	}
	return pass("%s exists with mode %#o", path, fi.Mode().Perm())
}

// encryptionConfig is the part of an EncryptionConfiguration checked.
type encryptionConfig struct {
	Kind      string `json:"kind"`
	Resources []struct {
		Resources []string         `json:"resources"`
		Providers []map[string]any `json:"providers"`
	} `json:"resources"`
}

// firstProviderFor returns the name of the first provider for resource.
func firstProviderFor(c encryptionConfig, resource string) (string, bool) {
	for _, r := range c.Resources {
		for _, res := range r.Resources {
			if res != resource && res != "*." && res != "*.*" {
				continue
			}
			if len(r.Providers) == 0 {
				return "", false
			}
			for name := range r.Providers[0] {
				return name, true
			}
		}
	}
	return "", false
}

func checkEncryptionProviders(_ context.Context, t *Target) Result {
	data, err := os.ReadFile(t.encryptionConfigPath())
	if err != nil {
		return fail("%v", err)
	}
	var c encryptionConfig
	if err := yaml.Unmarshal(data, &c); err != nil {
		return fail("parsing %s: %v", t.encryptionConfigPath(), err)
	}
	if c.Kind != "EncryptionConfiguration" {
		return fail("%s is a %q, want an EncryptionConfiguration", t.encryptionConfigPath(), c.Kind)
	}
	name, ok := firstProviderFor(c, "secrets")
	switch {
	case !ok:
		return fail("no provider configured for secrets")
	case name == "identity":
		return fail("secrets are written unencrypted: the first provider is identity")
	case name != "aesgcm" && name != "aescbc" && name != "secretbox" && name != "kms":
		return fail("unknown first provider %q for secrets", name)
	}
	return pass("secrets are written with %s", name)
}

func checkAudit(ctx context.Context, t *Target) Result {
	path := filepath.Join(t.DataDir, "audit", "audit.log")
	before, err := os.Stat(path)
	if err != nil {
		return fail("%v", err)
	}
	// A request the policy records, then the log must grow.
	if _, err := t.admin.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		return fail("probe request: %v", err)
	}
	err = waitFor(ctx, func() error {
		now, err := os.Stat(path)
		if err != nil {
			return err
		}
		if now.Size() == before.Size() && now.ModTime().Equal(before.ModTime()) {
			return errors.New("the audit log did not grow after a request")
		}
		return nil
	})
	if err != nil {
		return fail("%s: %v", path, err)
	}
	return pass("%s records requests", path)
}
