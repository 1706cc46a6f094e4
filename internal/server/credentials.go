package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/apiserver"
	"github.com/skiffkube/skiff/internal/auth"
	"github.com/skiffkube/skiff/internal/auth/join"
	"github.com/skiffkube/skiff/internal/auth/pki"
	"github.com/skiffkube/skiff/internal/auth/rbac"
	"github.com/skiffkube/skiff/internal/auth/serviceaccount"
)

// Components that have their own identity (ComponentConfig names).
const (
	// ComponentScheduler authenticates as system:kube-scheduler.
	ComponentScheduler = "scheduler"
	// ComponentControllerManager authenticates as
	// system:kube-controller-manager.
	ComponentControllerManager = "controller-manager"
	// ComponentProxy authenticates as system:kube-proxy.
	ComponentProxy = "proxy"
	// ComponentNodePrefix + node name authenticates as system:node:<node>
	// in system:nodes.
	ComponentNodePrefix = "node:"
)

// credentials are the server's keys and certificates.
type credentials struct {
	dir string
	ca  *pki.CA
	tls *tls.Config
	// serviceAccounts signs service account tokens.
	serviceAccounts *serviceaccount.Keys
	// kubelet reaches node agents with the API server's client certificate.
	kubelet *apiserver.KubeletClient
	// mu serialises issuing component certificates.
	mu sync.Mutex
}

// ensureCredentials creates or reuses the CA, the serving certificate, the
// admin and component client certificates and the service account signing
// key, all under dir.
func ensureCredentials(cfg Config, dir string) (*credentials, error) {
	now := time.Now()
	ca, err := pki.EnsureCA(dir, "skiff-ca", now)
	if err != nil {
		return nil, fmt.Errorf("certificate authority: %w", err)
	}
	svcIP, err := firstServiceIP(cfg.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	hostname, _ := os.Hostname()
	hosts := []string{"localhost", "127.0.0.1", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local", svcIP.String(), cfg.AdvertiseAddress}
	if hostname != "" {
		hosts = append(hosts, hostname)
	}
	if ip := net.ParseIP(cfg.BindAddress); ip != nil && !ip.IsUnspecified() {
		hosts = append(hosts, cfg.BindAddress)
	}
	certPath, keyPath := filepath.Join(dir, "serving.crt"), filepath.Join(dir, "serving.key")
	if err := ca.EnsureServingCert(certPath, keyPath, hosts, now); err != nil {
		return nil, fmt.Errorf("serving certificate: %w", err)
	}
	// The admin is a member of system:masters, which RBAC cannot lock out.
	if err := ca.EnsureClientCert(filepath.Join(dir, "admin.crt"), filepath.Join(dir, "admin.key"), "skiff-admin", []string{auth.GroupMasters}, now); err != nil {
		return nil, fmt.Errorf("admin certificate: %w", err)
	}
	// The CA goes along with the serving certificate, so that a joining
	// agent can check it against the hash its join token pins.
	serving, err := pki.NewFilePair(certPath, keyPath, ca.Cert.Raw)
	if err != nil {
		return nil, err
	}
	tlsConf := pki.ServerTLSConfig(serving, ca.Pool())
	keys, err := serviceaccount.EnsureKeys(filepath.Join(dir, "service-account.key"), cfg.ServiceAccountIssuer, nil)
	if err != nil {
		return nil, err
	}
	c := &credentials{dir: dir, ca: ca, tls: tlsConf, serviceAccounts: keys}
	kcert, kkey := filepath.Join(dir, "apiserver-kubelet-client.crt"), filepath.Join(dir, "apiserver-kubelet-client.key")
	if err := ca.EnsureClientCert(kcert, kkey, "skiff-apiserver-kubelet-client", nil, now); err != nil {
		return nil, fmt.Errorf("kubelet client certificate: %w", err)
	}
	kpair, err := pki.NewFilePair(kcert, kkey)
	if err != nil {
		return nil, fmt.Errorf("kubelet client certificate: %w", err)
	}
	c.kubelet = apiserver.NewKubeletClient(apiserver.KubeletClientConfig{Certificate: kpair.GetClientCertificate})
	for _, name := range []string{ComponentScheduler, ComponentControllerManager, ComponentProxy} {
		if _, _, err := c.componentCert(name); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// renewCertificates reissues the leaf certificates under the TLS directory
// that are close to expiry (all of them with force); the server, its
// components and kubectl pick the new files up as they are.
func (c *credentials) renewCertificates(force bool, now time.Time) ([]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ca.RenewLeaves(c.dir, force, now)
}

// RotateCertificates reissues every leaf certificate the cluster CA of the
// server with dataDir signed (`skiff certificate rotate`) and returns
// their paths.
func RotateCertificates(dataDir string, now time.Time) ([]string, error) {
	dir := filepath.Join(dataDir, "tls")
	ca, err := pki.LoadCA(dir, now)
	if err != nil {
		return nil, fmt.Errorf("the server's CA in %s: %w", dir, err)
	}
	return ca.RenewLeaves(dir, true, now)
}

// componentIdentity maps a component name to its user and groups.
func componentIdentity(name string) (user string, groups []string, err error) {
	switch {
	case name == ComponentScheduler:
		return rbac.UserKubeScheduler, nil, nil
	case name == ComponentControllerManager:
		return rbac.UserKubeControllerManager, nil, nil
	case name == ComponentProxy:
		return rbac.UserKubeProxy, nil, nil
	case strings.HasPrefix(name, ComponentNodePrefix) && len(name) > len(ComponentNodePrefix):
		node := strings.TrimPrefix(name, ComponentNodePrefix)
		if strings.ContainsAny(node, "/\\ ") || node == "." || node == ".." {
			return "", nil, fmt.Errorf("invalid node name %q", node)
		}
		return join.NodeUserPrefix + node, []string{join.NodesGroup}, nil
	}
	return "", nil, fmt.Errorf("unknown component %q (want %q, %q, %q or %q<node>)", name,
		ComponentScheduler, ComponentControllerManager, ComponentProxy, ComponentNodePrefix)
}

// componentCert makes sure the component's client certificate exists and
// returns its paths.
func (c *credentials) componentCert(name string) (certPath, keyPath string, err error) {
	user, groups, err := componentIdentity(name)
	if err != nil {
		return "", "", err
	}
	base := strings.ReplaceAll(name, ":", "-")
	certPath, keyPath = filepath.Join(c.dir, "components", base+".crt"), filepath.Join(c.dir, "components", base+".key")
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(certPath), 0o700); err != nil {
		return "", "", fmt.Errorf("component certificate directory: %w", err)
	}
	if err := c.ca.EnsureClientCert(certPath, keyPath, user, groups, time.Now()); err != nil {
		return "", "", fmt.Errorf("certificate of %s: %w", name, err)
	}
	return certPath, keyPath, nil
}

// signNode issues a joining node's certificate (apiserver.NodeCertificateSigner).
func (c *credentials) signNode(csr *x509.CertificateRequest, node string) (certPEM, caPEM []byte, err error) {
	certPEM, err = c.ca.SignClientCSR(csr, join.NodeUserPrefix+node, []string{join.NodesGroup}, 0, time.Now())
	return certPEM, c.ca.CertPEM, err
}

// ComponentConfig is a client configuration for a component with its own
// identity, so that RBAC applies to it: "scheduler"
// (system:kube-scheduler), "controller-manager"
// (system:kube-controller-manager), "proxy" (system:kube-proxy) or
// "node:<name>" (system:node:<name> in system:nodes). Certificates are kept
// under <data-dir>/tls/components and reused across restarts.
func (s *Server) ComponentConfig(name string) (*rest.Config, error) {
	certPath, keyPath, err := s.creds.componentCert(name)
	if err != nil {
		return nil, err
	}
	return &rest.Config{
		Host:      s.URL,
		UserAgent: "skiff-" + strings.ReplaceAll(name, ":", "-"),
		TLSClientConfig: rest.TLSClientConfig{
			CertFile: certPath, KeyFile: keyPath, CAData: s.creds.ca.CertPEM,
		},
	}, nil
}

// CAPEM is the cluster CA certificate.
func (s *Server) CAPEM() []byte { return s.creds.ca.CertPEM }

// authenticators are the request authenticators besides the token kinds
// the API server builds itself: client certificates and the static token
// file.
func authenticators(cfg Config) (auth.Authenticator, error) {
	u := auth.Union{auth.X509{}}
	if cfg.TokenAuthFile != "" {
		tf, err := auth.LoadTokenFile(cfg.TokenAuthFile)
		if err != nil {
			return nil, err
		}
		u = append(u, tf)
	}
	return u, nil
}
