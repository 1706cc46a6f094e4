package cli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/auth/join"
	"github.com/skiffkube/skiff/internal/auth/pki"
)

// nodeCertificateCheck is how often a joined agent looks at its
// certificate's expiry.
const nodeCertificateCheck = time.Hour

// credentialFiles are where a joined agent keeps its credentials.
type credentialFiles struct{ cert, key, ca string }

func credentialPaths(dir string) credentialFiles {
	return credentialFiles{cert: filepath.Join(dir, "node.crt"), key: filepath.Join(dir, "node.key"), ca: filepath.Join(dir, "ca.crt")}
}

// restConfig names the files rather than their content, so that client-go
// reloads a renewed certificate.
func (f credentialFiles) restConfig(server string) *rest.Config {
	return &rest.Config{Host: server, TLSClientConfig: rest.TLSClientConfig{CertFile: f.cert, KeyFile: f.key, CAFile: f.ca}}
}

// save writes credentials, the key before the certificate, each replaced
// atomically, so that a reader never pairs a new certificate with an old
// key.
func (f credentialFiles) save(c *join.Credentials) error {
	for _, w := range []struct {
		path string
		data []byte
	}{{f.key, c.KeyPEM}, {f.ca, c.CAPEM}, {f.cert, c.CertPEM}} {
		if err := writeFileAtomic(w.path, w.data, 0o600); err != nil {
			return fmt.Errorf("saving credentials: %w", err)
		}
	}
	return nil
}

// keepNodeCertificate renews the agent's certificate through the API
// server when it nears expiry (its last fifth, at most 30 days), checking
// every interval until ctx ends. Failures are logged and retried.
func keepNodeCertificate(ctx context.Context, files credentialFiles, server, nodeName string, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := renewNodeCertificateIfDue(ctx, files, server, nodeName, time.Now()); err != nil {
			logger.Error("renewing the node certificate", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// renewNodeCertificateIfDue renews the certificate when it is due.
func renewNodeCertificateIfDue(ctx context.Context, files credentialFiles, server, nodeName string, now time.Time) error {
	current, err := readCredentials(files)
	if err != nil {
		return err
	}
	block, _ := pem.Decode(current.CertPEM)
	if block == nil {
		return errors.New("the node certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("the node certificate: %w", err)
	}
	if !pki.RenewalDue(cert.NotBefore, cert.NotAfter, now) {
		return nil
	}
	renewed, err := join.RenewNodeCredentials(ctx, server, current, nodeName)
	if err != nil {
		return err
	}
	return files.save(renewed)
}

// readCredentials reads saved credentials.
func readCredentials(f credentialFiles) (*join.Credentials, error) {
	var c join.Credentials
	var err error
	if c.CertPEM, err = os.ReadFile(f.cert); err != nil {
		return nil, err
	}
	if c.KeyPEM, err = os.ReadFile(f.key); err != nil {
		return nil, err
	}
	if c.CAPEM, err = os.ReadFile(f.ca); err != nil {
		return nil, err
	}
	return &c, nil
}

// writeFileAtomic writes data next to path and renames it over path.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
