package join

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/auth/bootstraptoken"
)

// NodeCertificatePath is where the API server signs node certificates.
const NodeCertificatePath = "/skiff/v1/node-certificate"

// Node identities.
const (
	// NodeUserPrefix starts a node's user name.
	NodeUserPrefix = "system:node:"
	// NodesGroup holds every node.
	NodesGroup = "system:nodes"
)

// NodeCertificateRequest is the body POSTed to NodeCertificatePath.
type NodeCertificateRequest struct {
	// NodeName is the node the certificate is for.
	NodeName string `json:"nodeName"`
	// CSR is a PEM "CERTIFICATE REQUEST" signed by the node's key.
	CSR string `json:"csr"`
}

// NodeCertificateResponse is the answer.
type NodeCertificateResponse struct {
	// Certificate is the PEM client certificate.
	Certificate string `json:"certificate"`
	// CA is the PEM cluster CA certificate.
	CA string `json:"ca"`
}

// CAHash returns "sha256:<hex>" of the first certificate in caPEM.
func CAHash(caPEM []byte) (string, error) {
	block, _ := pem.Decode(caPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return "", errors.New("CA hash: no PEM certificate")
	}
	sum := sha256.Sum256(block.Bytes)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}

// FormatToken builds a join token from the CA and a bootstrap token.
func FormatToken(caPEM []byte, bootstrapToken string) (string, error) {
	if _, _, ok := bootstraptoken.Parse(bootstrapToken); !ok {
		return "", errors.New("join token: malformed bootstrap token")
	}
	h, err := CAHash(caPEM)
	if err != nil {
		return "", err
	}
	return h + "::" + bootstrapToken, nil
}

// ParseToken splits a join token into the CA hash ("" when the token is a
// bare bootstrap token) and the bootstrap token.
func ParseToken(token string) (caHash, bootstrapToken string, err error) {
	caHash, bootstrapToken, found := strings.Cut(strings.TrimSpace(token), "::")
	if !found {
		caHash, bootstrapToken = "", caHash
	}
	if caHash != "" {
		digest, ok := strings.CutPrefix(caHash, "sha256:")
		if b, err := hex.DecodeString(digest); !ok || err != nil || len(b) != sha256.Size {
			return "", "", errors.New("join token: the CA hash must be sha256:<64 hex digits>")
		}
	}
	if _, _, ok := bootstraptoken.Parse(bootstrapToken); !ok {
		return "", "", errors.New("join token: malformed bootstrap token (want <6 chars>.<16 chars>)")
	}
	return caHash, bootstrapToken, nil
}

// Credentials are what a node needs to talk to the API server.
type Credentials struct {
	CertPEM, KeyPEM, CAPEM []byte
}

// RESTConfig returns a client configuration for server with c.
func (c *Credentials) RESTConfig(server string) *rest.Config {
	return &rest.Config{Host: server, TLSClientConfig: rest.TLSClientConfig{CertData: c.CertPEM, KeyData: c.KeyPEM, CAData: c.CAPEM}}
}

// RequestNodeCredentials obtains credentials for nodeName from the server
// at serverURL with joinToken. The server is trusted when it proves it
// holds a certificate chaining to caPEM, or (caPEM nil) to the CA the
// token pins; a bare bootstrap token without caPEM is refused.
func RequestNodeCredentials(ctx context.Context, serverURL, joinToken, nodeName string, caPEM []byte) (*Credentials, error) {
	caHash, bootstrap, err := ParseToken(joinToken)
	if err != nil {
		return nil, err
	}
	if caHash == "" && len(caPEM) == 0 {
		return nil, errors.New("join: the token pins no CA and no CA certificate was given")
	}
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme != "https" {
		return nil, fmt.Errorf("join: server URL %q must be https", serverURL)
	}
	key, csrPEM, err := newNodeCSR(nodeName)
	if err != nil {
		return nil, err
	}
	client, err := pinnedClient(u.Hostname(), caHash, caPEM)
	if err != nil {
		return nil, err
	}
	defer client.CloseIdleConnections()
	resp, err := post(ctx, client, strings.TrimSuffix(serverURL, "/")+NodeCertificatePath, bootstrap,
		NodeCertificateRequest{NodeName: nodeName, CSR: string(csrPEM)})
	if err != nil {
		return nil, err
	}
	if caHash != "" {
		if got, err := CAHash([]byte(resp.CA)); err != nil || got != caHash {
			return nil, errors.New("join: the server's CA does not match the token's CA hash")
		}
	}
	if err := checkIssued([]byte(resp.Certificate), key, nodeName); err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("join: encoding the node key: %w", err)
	}
	return &Credentials{
		CertPEM: []byte(resp.Certificate),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		CAPEM:   []byte(resp.CA),
	}, nil
}

// RenewNodeCredentials obtains a new certificate and key for nodeName from
// the server at serverURL, authenticating with the node's current
// credentials (a node may renew only its own certificate). The server must
// prove it holds a certificate of the current CA.
func RenewNodeCredentials(ctx context.Context, serverURL string, current *Credentials, nodeName string) (*Credentials, error) {
	pair, err := tls.X509KeyPair(current.CertPEM, current.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("renew: the current credentials: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(current.CAPEM) {
		return nil, errors.New("renew: no CA certificate in the current credentials")
	}
	key, csrPEM, err := newNodeCSR(nodeName)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		MinVersion: tls.VersionTLS12, RootCAs: pool, Certificates: []tls.Certificate{pair},
	}}}
	defer client.CloseIdleConnections()
	resp, err := post(ctx, client, strings.TrimSuffix(serverURL, "/")+NodeCertificatePath, "",
		NodeCertificateRequest{NodeName: nodeName, CSR: string(csrPEM)})
	if err != nil {
		return nil, err
	}
	if err := checkIssued([]byte(resp.Certificate), key, nodeName); err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("renew: encoding the node key: %w", err)
	}
	return &Credentials{
		CertPEM: []byte(resp.Certificate),
		KeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		CAPEM:   current.CAPEM,
	}, nil
}

// newNodeCSR makes the node's key and a CSR for its identity.
func newNodeCSR(nodeName string) (*ecdsa.PrivateKey, []byte, error) {
	if nodeName == "" {
		return nil, nil, errors.New("join: empty node name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("join: generating the node key: %w", err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: NodeUserPrefix + nodeName, Organization: []string{NodesGroup}},
	}, key)
	if err != nil {
		return nil, nil, fmt.Errorf("join: certificate request: %w", err)
	}
	return key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// pinnedClient returns an HTTPS client trusting caPEM, or else a server
// whose presented chain holds a CA certificate with hash caHash that
// signed the serving certificate for host.
func pinnedClient(host, caHash string, caPEM []byte) (*http.Client, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("join: no certificate in the CA file")
		}
		tc.RootCAs = pool
	} else {
		tc.InsecureSkipVerify = true // verified below against the pinned CA
		tc.VerifyConnection = func(cs tls.ConnectionState) error { return verifyPinned(cs, host, caHash) }
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}, nil
}

// verifyPinned checks a server chain against the pinned CA hash.
func verifyPinned(cs tls.ConnectionState, host, caHash string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("join: the server sent no certificate")
	}
	pool := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		sum := sha256.Sum256(c.Raw)
		if "sha256:"+hex.EncodeToString(sum[:]) == caHash {
			pool.AddCert(c)
		}
	}
	opts := x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if ip := net.ParseIP(host); ip == nil {
		opts.DNSName = host
	}
	chains, err := cs.PeerCertificates[0].Verify(opts)
	if err != nil {
		return fmt.Errorf("join: the server is not signed by the pinned CA: %w", err)
	}
	if ip := net.ParseIP(host); ip != nil {
		if err := chains[0][0].VerifyHostname(host); err != nil {
			return fmt.Errorf("join: %w", err)
		}
	}
	return nil
}

// post sends the request and decodes the answer.
func post(ctx context.Context, client *http.Client, url, bearer string, body NodeCertificateRequest) (*NodeCertificateResponse, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("join: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("join: the server answered %s: %s", resp.Status, strings.TrimSpace(string(out)))
	}
	var r NodeCertificateResponse
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, fmt.Errorf("join: decoding the answer: %w", err)
	}
	return &r, nil
}

// checkIssued confirms the certificate is for key and the node.
func checkIssued(certPEM []byte, key *ecdsa.PrivateKey, nodeName string) error {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return errors.New("join: the server sent no certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("join: parsing the certificate: %w", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return errors.New("join: the certificate is not for the node's key")
	}
	if cert.Subject.CommonName != NodeUserPrefix+nodeName {
		return fmt.Errorf("join: the certificate is for %q", cert.Subject.CommonName)
	}
	return nil
}
