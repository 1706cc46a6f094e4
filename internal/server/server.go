package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/skiffkube/skiff/internal/apiserver"
	"github.com/skiffkube/skiff/internal/auth/pki"
	"github.com/skiffkube/skiff/internal/storage"
	"github.com/skiffkube/skiff/internal/storage/etcd"
)

// Version is what /version reports: the Kubernetes API level Skiff serves.
func Version() version.Info {
	return version.Info{Major: "1", Minor: "37", GitVersion: "v1.37.2-skiff", Platform: "linux/amd64", GoVersion: goruntime.Version()}
}

// Server is a running control plane.
type Server struct {
	cfg Config
	// KubeconfigPath is the admin kubeconfig written at start.
	KubeconfigPath string
	// URL is the HTTPS address of the API.
	URL string
	// Started is when Start was called; ReadyAt when /readyz first passed.
	Started, ReadyAt time.Time

	admin  *rest.Config
	creds  *credentials
	group  *errgroup.Group
	cancel context.CancelFunc
}

// Start brings the control plane up and returns once the API is ready.
// Everything stops when ctx is cancelled; Wait returns then.
func Start(parent context.Context, cfg Config) (*Server, error) {
	started := time.Now()
	ctx, cancel := context.WithCancel(parent)
	ok := false
	defer func() {
		if !ok {
			cancel()
		}
	}()
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory: %w", err)
	}
	// Keys and etcd data live here: keep it private even if it existed
	// (CIS 1.1.12).
	if err := os.Chmod(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("restricting the data directory: %w", err)
	}
	tlsDir := filepath.Join(cfg.DataDir, "tls")
	creds, err := ensureCredentials(cfg, tlsDir)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Debug("startup: credentials", "took", time.Since(started))
	tlsConf, caPEM := creds.tls, creds.ca.CertPEM
	authn, err := authenticators(cfg)
	if err != nil {
		return nil, err
	}
	rawStore, closeStore, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	store, err := openEncryption(rawStore, cfg)
	if err != nil {
		closeStore()
		return nil, err
	}
	auditor, err := newAuditor(cfg)
	if err != nil {
		closeStore()
		return nil, err
	}
	closeStore = runAuditor(auditor, closeStore)
	cfg.Logger.Debug("startup: store open", "took", time.Since(started))
	addr := net.JoinHostPort(cfg.AdvertiseAddress, strconv.Itoa(cfg.SecurePort))
	_, serviceNet, err := net.ParseCIDR(cfg.ServiceCIDR)
	if err != nil {
		closeStore()
		return nil, fmt.Errorf("service CIDR: %w", err)
	}
	api, err := apiserver.New(apiserver.Config{
		Store:                store,
		Authenticator:        authn,
		RBAC:                 true,
		NodeAuthorization:    true,
		AnonymousAuth:        cfg.AnonymousAuth,
		ServiceAccountTokens: creds.serviceAccounts,
		BootstrapTokens:      true,
		NodeCertificates:     creds.signNode,
		Kubelet:              creds.kubelet,
		ExternalAddress:      addr,
		ServiceCIDR:          serviceNet,
		Version:              Version(),
		Logger:               cfg.Logger,
		Admission:            apiserver.DefaultAdmissionPlugins(),
		Audit:                auditor,
		SecretsEncryption:    store,
		Limits:               apiserver.Limits{MaxRequestsInflight: cfg.MaxRequestsInflight, MaxMutatingRequestsInflight: cfg.MaxMutatingRequestsInflight},
	})
	if err != nil {
		closeStore()
		return nil, err
	}
	listenAddr := net.JoinHostPort(cfg.BindAddress, strconv.Itoa(cfg.SecurePort))
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		closeStore()
		return nil, fmt.Errorf("listening on %s: %w", listenAddr, err)
	}
	// HTTP/2 lets a client multiplex its watches over one connection; the
	// stream limit matches upstream's so a node's watches never queue.
	hs := &http.Server{Handler: api, TLSConfig: tlsConf, ReadHeaderTimeout: 30 * time.Second,
		HTTP2: &http.HTTP2Config{MaxConcurrentStreams: 1000}}

	g, gctx := errgroup.WithContext(ctx)
	s := &Server{cfg: cfg, creds: creds, KubeconfigPath: cfg.KubeconfigPath, URL: "https://" + localURLHost(cfg) + ":" + strconv.Itoa(cfg.SecurePort), Started: started, group: g, cancel: cancel}
	// The components (controllers, leases) are clients of this server: they
	// stop first, while it still answers their last requests (a Lease
	// release), and only then does the HTTP server drain.
	var components sync.WaitGroup
	components.Add(1)
	componentsDone := sync.OnceFunc(components.Done)
	fail := func(err error) (*Server, error) {
		cancel()
		componentsDone()
		return nil, errors.Join(err, g.Wait())
	}
	g.Go(func() error { return api.Run(gctx) })
	g.Go(func() error {
		etcd.RunCompactor(gctx, store, 5*time.Minute, 10000)
		return nil
	})
	g.Go(func() error {
		renewCertificates(gctx, creds, certificateCheck, cfg.Logger)
		return nil
	})
	g.Go(func() error {
		err := hs.ServeTLS(ln, "", "")
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("serving HTTPS: %w", err)
	})
	g.Go(func() error {
		<-gctx.Done()
		waitAtMost(&components, 15*time.Second)
		api.StopWatches()
		// In-flight requests get a while to finish. An HTTP/2 connection
		// accepted while Shutdown began never hears of it and would hold
		// the drain forever, so what is left after that is closed.
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hs.Shutdown(shutdownCtx); errors.Is(err, context.DeadlineExceeded) {
			cfg.Logger.Warn("closing connections still open after the shutdown drain")
			hs.Close()
		}
		closeStore()
		return nil
	})

	if err := pki.WriteKubeconfig(cfg.KubeconfigPath, s.URL, caPEM,
		filepath.Join(tlsDir, "admin.crt"), filepath.Join(tlsDir, "admin.key"), "skiff"); err != nil {
		return fail(err)
	}
	if s.admin, err = clientcmd.BuildConfigFromFlags("", cfg.KubeconfigPath); err != nil {
		return fail(fmt.Errorf("loading the admin kubeconfig: %w", err))
	}
	select {
	case <-api.Ready():
	case <-gctx.Done():
		return fail(errors.New("server stopped before it was ready"))
	}
	cfg.Logger.Debug("startup: API ready", "took", time.Since(started))
	if err := bootstrap(gctx, s.admin, cfg); err != nil {
		return fail(err)
	}
	cfg.Logger.Debug("startup: bootstrap objects", "took", time.Since(started))
	comps, cctx := errgroup.WithContext(gctx)
	comps.Go(func() error { return runKubernetesEndpoints(cctx, s.admin, cfg) })
	comps.Go(func() error { return runControllers(cctx, s.ComponentConfig, cfg) })
	g.Go(func() error {
		defer componentsDone()
		return comps.Wait()
	})
	s.ReadyAt = time.Now()
	ok = true
	cfg.Logger.Info("API server ready", "url", s.URL, "kubeconfig", cfg.KubeconfigPath, "startup", s.ReadyAt.Sub(started).Round(time.Millisecond))
	return s, nil
}

// certificateCheck is how often the server looks for certificates close to
// expiry.
const certificateCheck = time.Hour

// renewCertificates reissues, every interval until ctx ends, the leaf
// certificates that are within 30 days of expiry, so that no one renews
// them by hand.
func renewCertificates(ctx context.Context, creds *credentials, interval time.Duration, logger *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			renewed, err := creds.renewCertificates(false, now)
			if err != nil {
				logger.Error("renewing certificates", "err", err)
			}
			for _, path := range renewed {
				logger.Info("renewed a certificate close to expiry", "path", path)
			}
		}
	}
}

// waitAtMost waits for wg, giving up after d.
func waitAtMost(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// Wait blocks until the server has stopped and returns the first error.
func (s *Server) Wait() error {
	err := s.group.Wait()
	s.cancel()
	return err
}

// AdminConfig is a client configuration with the admin identity.
func (s *Server) AdminConfig() *rest.Config { return rest.CopyConfig(s.admin) }

func localURLHost(cfg Config) string {
	if ip := net.ParseIP(cfg.BindAddress); ip != nil && !ip.IsUnspecified() {
		return cfg.BindAddress
	}
	return "127.0.0.1"
}

// openStore connects to external etcd or starts the embedded one.
func openStore(ctx context.Context, cfg Config) (storage.Store, func(), error) {
	if len(cfg.EtcdServers) > 0 {
		client, err := etcd.NewClient(cfg.EtcdServers, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("connecting to etcd %v: %w", cfg.EtcdServers, err)
		}
		return etcd.New(client), func() { client.Close() }, nil
	}
	emb, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(cfg.DataDir, "etcd")})
	if err != nil {
		return nil, nil, fmt.Errorf("starting embedded etcd: %w", err)
	}
	client, err := etcd.NewClient(emb.Endpoints(), nil)
	if err != nil {
		emb.Close()
		return nil, nil, fmt.Errorf("connecting to embedded etcd: %w", err)
	}
	return etcd.New(client), func() { client.Close(); emb.Close() }, nil
}
