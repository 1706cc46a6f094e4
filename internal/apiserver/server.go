package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/apiserver/audit"
	"github.com/skiffkube/skiff/internal/apiserver/openapi"
	"github.com/skiffkube/skiff/internal/apiserver/registry"
	"github.com/skiffkube/skiff/internal/apiserver/tables"
	"github.com/skiffkube/skiff/internal/auth"
	"github.com/skiffkube/skiff/internal/auth/join"
	"github.com/skiffkube/skiff/internal/auth/rbac"
	"github.com/skiffkube/skiff/internal/auth/serviceaccount"
	"github.com/skiffkube/skiff/internal/storage"
)

// Config is what the API server needs; the caller owns every part.
type Config struct {
	// Store holds every object.
	Store storage.Store
	// Authenticator identifies callers; nil lets every request through as
	// an anonymous user (tests only).
	Authenticator auth.Authenticator
	// Authorizer decides; nil allows everything unless RBAC is on. With
	// RBAC it is asked after system:masters and before the RBAC rules
	// (a Node authorizer, for example).
	Authorizer auth.Authorizer
	// RBAC authorizes requests with the Roles, ClusterRoles and bindings
	// this server stores (members of system:masters may do anything), and
	// refuses writes of roles and bindings that would escalate privileges.
	RBAC bool
	// NodeAuthorization confines agents (system:node:<name>) to their own
	// node's objects, ahead of RBAC (see package auth/node).
	NodeAuthorization bool
	// AnonymousAuth lets requests without credentials through as
	// system:anonymous on every path, for the authorizer to judge; when
	// false only the health and version paths are open to them.
	AnonymousAuth bool
	// ServiceAccountTokens signs and verifies service account tokens: it
	// enables serviceaccounts/token, TokenReview of such tokens and their
	// authentication. Nil serves none of these.
	ServiceAccountTokens *serviceaccount.Keys
	// BootstrapTokens authenticates "Bearer <id>.<secret>" with the
	// bootstrap token Secrets of kube-system (group system:bootstrappers).
	BootstrapTokens bool
	// NodeCertificates signs the client certificates of joining nodes
	// (POST /skiff/v1/node-certificate); nil disables the endpoint.
	NodeCertificates NodeCertificateSigner
	// Kubelet reaches node agents for logs, exec, attach, port-forward
	// and node proxy; nil answers those 501.
	Kubelet *KubeletClient
	// ServiceCIDR is the range of Service cluster IPs.
	ServiceCIDR *net.IPNet
	// NodePortBase and NodePortSize bound Service node ports (0: upstream's
	// 30000-32767).
	NodePortBase, NodePortSize int
	// ExternalAddress is host:port advertised in discovery.
	ExternalAddress string
	// Version is served at /version.
	Version version.Info
	// Clock is the time source; nil means the real clock.
	Clock clock.WithTicker
	// Logger receives server logs; nil discards.
	Logger *slog.Logger
	// Admission names the admission plugins to run besides
	// NamespaceLifecycle (see DefaultAdmissionPlugins); nil runs none.
	Admission []string
	// Limits bound the requests in flight, fairly among users (zero
	// values are upstream's defaults).
	Limits Limits
	// Audit records requests in the audit log; nil disables auditing. The
	// caller runs it (Auditor.Run).
	Audit *audit.Auditor
	// SecretsEncryption, when set, serves the secrets-encrypt status and
	// rotate endpoints (system:masters only, by RBAC).
	SecretsEncryption SecretsEncryption
}

// Server is the API server's HTTP handler and the watch caches behind it.
type Server struct {
	cfg        Config
	codecs     *codecs
	resp       *responder
	stores     map[schema.GroupVersionResource]*resourceStore
	namespaces *resourceStore
	discovery  *discovery
	openapi    *openapi.Handler
	metrics    *metrics
	handler    http.Handler
	// authenticator and authorizer are the full chains (Config's plus the
	// ones built on this server's own objects).
	authenticator auth.Authenticator
	authorizer    auth.Authorizer
	// admission holds the enabled admission plugins.
	admission admission
	// reviews are the create-only review resources.
	reviews map[schema.GroupVersionResource]registry.Resource
	// tokens are the bearer token authenticators built on this server's
	// objects (service account and bootstrap tokens), for TokenReview too.
	tokens auth.TokenUnion
	// rbacIndex and rbac are set when Config.RBAC is.
	rbacIndex *rbacIndex
	rbac      *rbac.Authorizer
	// oidc are the service account issuer discovery documents (nil
	// without service account tokens).
	oidc *oidcDocuments
	// encodings remembers encoded watch objects for the fan-out.
	encodings *encodingCache
	// metricsScraper serves metrics.k8s.io from the agents' summaries;
	// nil when there is no kubelet client.
	metricsScraper *metricsScraper

	readyOnce sync.Once
	ready     chan struct{}

	stopWatchesOnce sync.Once
	stopWatches     chan struct{}
}

// New builds the server for every built-in resource.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("apiserver: Config.Store is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ServiceCIDR == nil {
		_, cfg.ServiceCIDR, _ = net.ParseCIDR("10.96.0.0/12")
	}
	if cfg.Authorizer == nil && !cfg.RBAC {
		cfg.Authorizer = auth.AlwaysAllow{}
	}
	c, err := newCodecs()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, codecs: c, stores: map[schema.GroupVersionResource]*resourceStore{}, ready: make(chan struct{}), stopWatches: make(chan struct{})}
	s.metrics = newMetrics()
	s.encodings = newEncodingCache(watchEncodings)
	store := instrumentStore(cfg.Store, s.metrics)
	s.resp = &responder{codecs: c, now: func() metav1.Time { return metav1.NewTime(cfg.Clock.Now()) }, tables: tables.NewConverter()}
	typeConverter := applyconfigurations.NewTypeConverter(c.scheme)
	var served []registry.Resource
	for _, res := range registry.Builtin() {
		rs, err := newResourceStore(res, store, c, cfg.Clock, typeConverter)
		if err != nil {
			return nil, err
		}
		s.stores[res.GroupVersionResource] = rs
		served = append(served, res)
	}
	reviews := map[schema.GroupVersionResource]registry.Resource{}
	for _, res := range registry.Reviews() {
		reviews[res.GroupVersionResource] = res
		served = append(served, res)
	}
	s.reviews = reviews
	allocs, err := newServiceAllocators(store, cfg)
	if err != nil {
		return nil, err
	}
	s.stores[schema.GroupVersionResource{Version: "v1", Resource: "services"}].hooks = allocs.hooks()
	s.namespaces = s.stores[schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}]
	s.discovery = newDiscovery(served, cfg.ExternalAddress)
	if err := s.installMetricsAPI(); err != nil {
		return nil, err
	}
	if s.openapi, err = openapi.New(served); err != nil {
		return nil, fmt.Errorf("building OpenAPI documents: %w", err)
	}
	s.buildAuth()
	if cfg.ServiceAccountTokens != nil {
		if s.oidc, err = newOIDCDocuments(cfg.ServiceAccountTokens, cfg.ExternalAddress); err != nil {
			return nil, err
		}
	}
	s.admission = newAdmission(cfg.Admission, func() string { return utilrand.String(5) })
	s.installLegacyTokens()
	s.installAdmission()
	s.handler = s.buildChain()
	return s, nil
}

// Run fills the watch caches and keeps them current until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(s.stores))
	for _, rs := range s.stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := rs.cache.Run(ctx); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("watch cache of %s: %w", rs.gr, err)
			}
		}()
	}
	if s.rbacIndex != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.rbacIndex.Run(ctx)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, rs := range s.stores {
			select {
			case <-rs.cache.Ready():
			case <-ctx.Done():
				return
			}
		}
		if s.rbacIndex != nil {
			select {
			case <-s.rbacIndex.Synced():
			case <-ctx.Done():
				return
			}
		}
		s.readyOnce.Do(func() { close(s.ready) })
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	wg.Wait()
	return err
}

// Ready is closed once every watch cache has synced.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// ServeHTTP serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// buildChain wraps the router: panic recovery → metrics → authentication →
// authorization → routing (admission runs inside the REST handlers).
func (s *Server) buildChain() http.Handler {
	var h http.Handler = http.HandlerFunc(s.route)
	h = s.withAuditAuthorized(h)
	h = s.withAuthorization(h)
	h = s.withLimits(h) // after authentication: seats are shared fairly by user
	h = s.withAudit(h)
	h = s.withAuthentication(h)
	h = s.withMetrics(h)
	h = s.withRecovery(h)
	return h
}

func (s *Server) withRecovery(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.cfg.Logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				s.resp.writeError(w, r, apierrors.NewInternalError(fmt.Errorf("%v", p)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// publicPaths are served to unauthenticated callers, as upstream's
// system:public-info-viewer allows.
func publicPath(p string) bool {
	switch p {
	case "/healthz", "/livez", "/readyz", "/version":
		return true
	}
	return strings.HasPrefix(p, "/healthz/") || strings.HasPrefix(p, "/livez/") || strings.HasPrefix(p, "/readyz/")
}

func (s *Server) withAuthentication(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.authenticator == nil {
			next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), anonymousUser())))
			return
		}
		u, ok, err := s.authenticator.Authenticate(r)
		switch {
		case ok:
			next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), u)))
		case err == nil && r.Header.Get("Authorization") == "" && (s.cfg.AnonymousAuth || publicPath(r.URL.Path)):
			next.ServeHTTP(w, r.WithContext(auth.WithUser(r.Context(), anonymousUser())))
		default:
			// Credentials that were presented but not accepted get 401,
			// even on public paths, as upstream.
			if err != nil {
				s.cfg.Logger.Debug("authentication failed", "error", err)
			}
			s.resp.writeError(w, r, apierrors.NewUnauthorized("Unauthorized"))
		}
	})
}

// anonymousUser is who a request without credentials is.
func anonymousUser() *auth.User {
	return &auth.User{Name: auth.UserAnonymous, Groups: []string{auth.GroupUnauthenticated}}
}

func (s *Server) withAuthorization(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if publicPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		info := parseRequestInfo(r)
		u, _ := auth.UserFrom(r.Context())
		attrs := attributesOf(u, info)
		d, reason, err := s.authorizer.Authorize(r.Context(), attrs)
		if d != auth.DecisionAllow {
			if err != nil {
				s.cfg.Logger.Debug("authorization error", "error", err)
			}
			s.resp.writeError(w, r, forbidden(attrs, reason))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// attributesOf describes a request for the authorizer.
func attributesOf(u *auth.User, info requestInfo) auth.Attributes {
	return auth.Attributes{User: u, Verb: info.Verb, Namespace: info.Namespace, APIGroup: info.APIGroup, APIVersion: info.APIVersion,
		Resource: info.Resource, Subresource: info.Subresource, Name: info.Name, Path: info.Path, ResourceRequest: info.IsResource}
}

// forbidden is the 403 of a denied request, worded as upstream:
// `pods "x" is forbidden: User "u" cannot get resource "pods" in API group
// "" in the namespace "ns"`, with the authorizer's reason appended.
func forbidden(a auth.Attributes, reason string) *apierrors.StatusError {
	msg := forbiddenMessage(a)
	if reason != "" {
		msg += ": " + reason
	}
	return apierrors.NewForbidden(schema.GroupResource{Group: a.APIGroup, Resource: a.Resource}, a.Name, errors.New(msg))
}

func forbiddenMessage(a auth.Attributes) string {
	name := ""
	if a.User != nil {
		name = a.User.Name
	}
	if !a.ResourceRequest {
		return fmt.Sprintf("User %q cannot %s path %q", name, a.Verb, a.Path)
	}
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	if a.Namespace != "" {
		return fmt.Sprintf("User %q cannot %s resource %q in API group %q in the namespace %q", name, a.Verb, res, a.APIGroup, a.Namespace)
	}
	return fmt.Sprintf("User %q cannot %s resource %q in API group %q at the cluster scope", name, a.Verb, res, a.APIGroup)
}

// route serves non-resource paths and hands resource requests on.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	info := parseRequestInfo(r)
	if info.IsResource && info.APIGroup == metricsGroup {
		s.serveMetrics(w, r, info)
		return
	}
	if info.IsResource {
		s.serveResource(w, r, info)
		return
	}
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == "/version":
		writeJSON(w, http.StatusOK, s.cfg.Version)
	case p == "/healthz" || p == "/livez" || strings.HasPrefix(p, "/livez/") || strings.HasPrefix(p, "/healthz/"):
		s.serveHealth(w, r, false)
	case p == "/readyz" || strings.HasPrefix(p, "/readyz/"):
		s.serveHealth(w, r, true)
	case p == oidcConfigurationPath || p == oidcJWKSPath:
		if !s.serveOIDC(w, r, p) {
			s.resp.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
		}
	case p == join.NodeCertificatePath:
		s.serveNodeCertificate(w, r)
	case strings.HasPrefix(p, SecretsEncryptPath+"/"):
		s.serveSecretsEncrypt(w, r, p)
	case p == "/metrics":
		s.metrics.handler().ServeHTTP(w, r)
	case strings.HasPrefix(p, "/openapi/"):
		s.openapi.ServeHTTP(w, r)
	case p == "/api":
		s.serveDiscovery(w, r, true, s.discovery.legacy)
	case p == "/apis":
		s.serveDiscovery(w, r, false, s.discovery.groups)
	case info.APIPrefix == "api" && info.APIVersion != "":
		s.serveGroupVersion(w, r, schema.GroupVersion{Version: info.APIVersion})
	case info.APIPrefix == "apis" && info.APIVersion != "":
		s.serveGroupVersion(w, r, schema.GroupVersion{Group: info.APIGroup, Version: info.APIVersion})
	case strings.HasPrefix(p, "/apis/") && strings.Count(p, "/") == 2:
		g, ok := s.discovery.groupByName[strings.TrimPrefix(p, "/apis/")]
		if !ok {
			s.resp.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
			return
		}
		writeJSON(w, http.StatusOK, g)
	case p == "":
		paths := []string{"/api", "/api/v1", "/apis", "/healthz", "/livez", "/metrics", "/openapi/v2", "/openapi/v3", "/readyz", "/version"}
		for _, g := range s.discovery.groups.Groups {
			paths = append(paths, "/apis/"+g.Name)
			for _, v := range g.Versions {
				paths = append(paths, "/apis/"+v.GroupVersion)
			}
		}
		writeJSON(w, http.StatusOK, metav1.RootPaths{Paths: paths})
	default:
		s.resp.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
	}
}

func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request, legacy bool, plain any) {
	if ct, ok := wantsAggregated(r); ok {
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Vary", "Accept")
		writeJSONBody(w, http.StatusOK, s.discovery.aggregated[legacy])
		return
	}
	w.Header().Set("Vary", "Accept")
	writeJSON(w, http.StatusOK, plain)
}

func (s *Server) serveGroupVersion(w http.ResponseWriter, r *http.Request, gv schema.GroupVersion) {
	list, ok := s.discovery.resources[gv]
	if !ok {
		s.resp.writeError(w, r, apierrors.NewNotFound(schema.GroupResource{}, ""))
		return
	}
	writeJSON(w, http.StatusOK, list)
}

// serveHealth answers /livez, /healthz and /readyz (with ?verbose).
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request, ready bool) {
	type check struct {
		name string
		err  error
	}
	checks := []check{{name: "ping"}}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	_, err := s.cfg.Store.CurrentRevision(ctx)
	checks = append(checks, check{name: "etcd", err: err})
	if ready {
		var cacheErr error
		select {
		case <-s.ready:
		default:
			cacheErr = errors.New("watch caches not synced")
		}
		checks = append(checks, check{name: "informer-sync", err: cacheErr})
	}
	// /livez/etcd style: one check.
	if parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/"); len(parts) == 2 {
		var one []check
		for _, c := range checks {
			if c.name == parts[1] {
				one = []check{c}
			}
		}
		if one == nil {
			http.NotFound(w, r)
			return
		}
		checks = one
	}
	failed := false
	var b strings.Builder
	for _, c := range checks {
		if c.err != nil {
			failed = true
			fmt.Fprintf(&b, "[-]%s failed: reason withheld\n", c.name)
		} else {
			fmt.Fprintf(&b, "[+]%s ok\n", c.name)
		}
	}
	name := strings.Trim(strings.Split(strings.Trim(r.URL.Path, "/"), "/")[0], "/")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if failed {
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "%s%s check failed\n", b.String(), name)
		return
	}
	if _, verbose := r.URL.Query()["verbose"]; verbose {
		fmt.Fprintf(w, "%s%s check passed\n", b.String(), name)
		return
	}
	fmt.Fprint(w, "ok")
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", mediaJSON)
	writeJSONBody(w, code, v)
}

func writeJSONBody(w http.ResponseWriter, code int, v any) {
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// StopWatches ends every open watch, so a graceful shutdown does not wait
// for them.
func (s *Server) StopWatches() { s.stopWatchesOnce.Do(func() { close(s.stopWatches) }) }
