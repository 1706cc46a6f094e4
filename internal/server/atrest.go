package server

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/skiffkube/skiff/internal/apiserver/audit"
	"github.com/skiffkube/skiff/internal/storage"
	"github.com/skiffkube/skiff/internal/storage/encrypt"
)

// AuditConfig configures the audit log.
type AuditConfig struct {
	// PolicyFile is an audit.k8s.io/v1 Policy; "" means the built-in
	// default policy, a file without rules turns auditing off.
	PolicyFile string
	// LogPath is the log file; "" means <DataDir>/audit/audit.log, "-"
	// standard output.
	LogPath string
	// MaxAgeDays, MaxBackups and MaxSizeMB bound the rotated files (0: no
	// limit).
	MaxAgeDays, MaxBackups, MaxSizeMB int
}

// encryptionConfigPath is the encryption configuration file in use.
func encryptionConfigPath(cfg Config) string {
	if cfg.EncryptionProviderConfig != "" {
		return cfg.EncryptionProviderConfig
	}
	return filepath.Join(cfg.DataDir, "encryption-config.yaml")
}

// openEncryption wraps store with encryption at rest. Without a
// configuration file flag it uses <DataDir>/encryption-config.yaml,
// generating a secretbox key for Secrets on the first start.
func openEncryption(store storage.Store, cfg Config) (*encrypt.Store, error) {
	path := encryptionConfigPath(cfg)
	var c *encrypt.Configuration
	var err error
	if cfg.EncryptionProviderConfig != "" {
		c, err = encrypt.LoadFile(path)
	} else {
		var created bool
		c, created, err = encrypt.EnsureFile(path, nil)
		if created {
			cfg.Logger.Info("generated an encryption configuration: Secrets are encrypted at rest", "path", path)
		}
	}
	if err != nil {
		return nil, err
	}
	s, err := encrypt.New(store, c, encrypt.Options{Path: path})
	if err != nil {
		return nil, fmt.Errorf("encryption configuration %s: %w", path, err)
	}
	return s, nil
}

// newAuditor opens the audit log; nil means auditing is off.
func newAuditor(cfg Config) (*audit.Auditor, error) {
	policy := audit.DefaultPolicy()
	if cfg.Audit.PolicyFile != "" {
		p, err := audit.LoadPolicyFile(cfg.Audit.PolicyFile)
		if err != nil {
			return nil, err
		}
		policy = p
	}
	path := cfg.Audit.LogPath
	if path == "" {
		path = filepath.Join(cfg.DataDir, "audit", "audit.log")
	}
	a, err := audit.New(audit.Options{Policy: policy, Path: path, Rotate: audit.RotateOptions{
		MaxSizeMB: cfg.Audit.MaxSizeMB, MaxBackups: cfg.Audit.MaxBackups, MaxAgeDays: cfg.Audit.MaxAgeDays}})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	if a == nil {
		cfg.Logger.Warn("the audit policy has no rules: audit logging is off")
	}
	return a, nil
}

// runAuditor starts a's writer and returns then, which stops it (writing
// what is queued and closing the log) before calling then: the store's
// close, which runs after the HTTP server has drained.
func runAuditor(a *audit.Auditor, then func()) func() {
	if a == nil {
		return then
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.Run(ctx)
	}()
	return func() {
		cancel()
		<-done
		then()
	}
}
