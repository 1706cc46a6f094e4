package pki

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// reloadCheck is how often a FilePair looks at its files again.
const reloadCheck = time.Second

// FilePair serves a certificate and key kept in files, reloading them
// when they change on disk, so that a rotated certificate is used by new
// connections without a restart. It is safe for concurrent use.
type FilePair struct {
	certPath, keyPath string
	// chain is appended to the certificate (the CA, for clients that pin
	// it).
	chain [][]byte

	mu      sync.Mutex
	cert    *tls.Certificate
	modTime time.Time
	checked time.Time
}

// NewFilePair loads the pair at certPath/keyPath; chain certificates (DER)
// are sent after the leaf.
func NewFilePair(certPath, keyPath string, chain ...[]byte) (*FilePair, error) {
	p := &FilePair{certPath: certPath, keyPath: keyPath, chain: chain}
	if _, err := p.Current(); err != nil {
		return nil, err
	}
	return p, nil
}

// Current returns the pair, reloaded if the certificate file changed. A
// pair that cannot be reloaded (a rotation half written) keeps the last
// good one.
func (p *FilePair) Current() (*tls.Certificate, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.cert != nil && now.Sub(p.checked) < reloadCheck {
		return p.cert, nil
	}
	p.checked = now
	fi, err := os.Stat(p.certPath)
	if err != nil {
		if p.cert != nil {
			return p.cert, nil
		}
		return nil, fmt.Errorf("certificate %s: %w", p.certPath, err)
	}
	if p.cert != nil && fi.ModTime().Equal(p.modTime) {
		return p.cert, nil
	}
	pair, err := tls.LoadX509KeyPair(p.certPath, p.keyPath)
	if err != nil {
		if p.cert != nil {
			return p.cert, nil
		}
		return nil, fmt.Errorf("certificate %s: %w", p.certPath, err)
	}
	pair.Certificate = append(pair.Certificate, p.chain...)
	p.cert, p.modTime = &pair, fi.ModTime()
	return p.cert, nil
}

// GetCertificate is a tls.Config.GetCertificate for servers.
func (p *FilePair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) { return p.Current() }

// GetClientCertificate is a tls.Config.GetClientCertificate for clients.
func (p *FilePair) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return p.Current()
}
