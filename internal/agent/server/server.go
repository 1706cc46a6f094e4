package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/skiffkube/skiff/internal/runtime/cri"
)

// Identities LocalAuthorizer lets in.
const (
	// APIServerUser is the common name of the certificate the API server
	// presents to agents.
	APIServerUser = "skiff-apiserver-kubelet-client"
	// MastersGroup (system:masters) holds cluster administrators.
	MastersGroup = "system:masters"
)

// Streamer prepares streaming sessions in the container runtime and
// returns the URL of the runtime's streaming server that serves them.
// *cri.Runtime implements it.
type Streamer interface {
	Exec(ctx context.Context, containerID string, cmd []string, opts cri.StreamOptions) (string, error)
	Attach(ctx context.Context, containerID string, opts cri.StreamOptions) (string, error)
	PortForward(ctx context.Context, sandboxID string, ports []int32) (string, error)
}

// Config configures the agent's endpoint.
type Config struct {
	// Pods finds pods' sandboxes, containers and log files.
	Pods Pods
	// Streamer serves exec, attach and port-forward; nil answers them 501.
	Streamer Streamer
	// Stats serves /stats/summary; nil answers it 501.
	Stats StatsSource
	// Certificate is the endpoint's serving certificate (see
	// SelfSignedCertificate).
	Certificate tls.Certificate
	// ClientCAs verify client certificates (the cluster CA). Required:
	// every request must present a certificate they signed.
	ClientCAs *x509.CertPool
	// NodeName is the node the endpoint serves: the name of the node
	// object requests are authorized against.
	NodeName string
	// Authorizer decides whether the holder of a verified client
	// certificate may make a request (see RequestAttributes); a
	// SARAuthorizer asks the API server. nil is LocalAuthorizer: only
	// APIServerUser and members of MastersGroup.
	Authorizer Authorizer
	// LogPollInterval is how often followed logs are checked for new
	// lines (250ms).
	LogPollInterval time.Duration
	// Logger receives the endpoint's logs; nil discards them.
	Logger *slog.Logger
}

// Server is the agent's HTTPS endpoint.
type Server struct {
	cfg     Config
	handler http.Handler
}

// New checks cfg and builds the server.
func New(cfg Config) (*Server, error) {
	if cfg.Pods == nil {
		return nil, errors.New("agent server: Pods is required")
	}
	if cfg.ClientCAs == nil {
		return nil, errors.New("agent server: ClientCAs is required")
	}
	if cfg.Authorizer == nil {
		cfg.Authorizer = LocalAuthorizer{}
	}
	if cfg.LogPollInterval <= 0 {
		cfg.LogPollInterval = 250 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", s.serveLogs)
	mux.HandleFunc("GET /stats/summary", s.serveStatsSummary)
	mux.HandleFunc("/exec/{namespace}/{pod}/{container}", s.serveExec)
	mux.HandleFunc("/exec/{namespace}/{pod}/{uid}/{container}", s.serveExec)
	mux.HandleFunc("/attach/{namespace}/{pod}/{container}", s.serveAttach)
	mux.HandleFunc("/attach/{namespace}/{pod}/{uid}/{container}", s.serveAttach)
	mux.HandleFunc("/portForward/{namespace}/{pod}", s.servePortForward)
	mux.HandleFunc("/portForward/{namespace}/{pod}/{uid}", s.servePortForward)
	s.handler = s.withAuthorization(mux)
	return s, nil
}

// ServeHTTP serves a request whose TLS state carries a verified client
// certificate.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// TLSConfig is the serving TLS configuration: HTTP/1.1 only (connection
// upgrades need it) and a client certificate signed by ClientCAs required.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{s.cfg.Certificate},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    s.cfg.ClientCAs,
		NextProtos:   []string{"http/1.1"},
	}
}

// Serve serves HTTPS on l until ctx ends, then closes the listener and
// the connections (hijacked streams end with their clients or runtime).
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{Handler: s, TLSConfig: s.TLSConfig(), ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:    slog.NewLogLogger(s.cfg.Logger.Handler(), slog.LevelDebug),
		BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		select {
		case <-ctx.Done():
			_ = hs.Close()
		case <-done:
		}
	}()
	err := hs.Serve(tls.NewListener(l, hs.TLSConfig))
	close(done)
	<-stopped
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("agent endpoint: %w", err)
}

// httpError is an error with the status the client gets.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &httpError{code: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &httpError{code: http.StatusNotFound, msg: fmt.Sprintf(format, args...)}
}

// writeError answers err as plain text, as upstream's kubelet does.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	var he *httpError
	if errors.As(err, &he) {
		code = he.code
	} else {
		s.cfg.Logger.Warn("agent endpoint request failed", "path", r.URL.Path, "err", err)
	}
	http.Error(w, strings.TrimSpace(err.Error()), code)
}

// lookup finds the pod of a request, checking the UID when the path has
// one.
func (s *Server) lookup(r *http.Request) (*Pod, error) {
	ns, name := r.PathValue("namespace"), r.PathValue("pod")
	pod, err := s.cfg.Pods.LookupPod(r.Context(), ns, name)
	switch {
	case errors.Is(err, ErrPodNotFound):
		return nil, notFound("pod %s/%s not found on this node", ns, name)
	case err != nil:
		return nil, err
	}
	if uid := r.PathValue("uid"); uid != "" && uid != pod.UID {
		return nil, notFound("pod %s/%s with UID %s not found on this node", ns, name, uid)
	}
	return pod, nil
}
