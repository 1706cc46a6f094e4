package server

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
)

// Attributes are what a request to the endpoint asks of the node, in the
// terms of the API server's authorization: a verb on a subresource of
// the node object.
type Attributes struct {
	// Verb is the API verb of the HTTP method (get, create, update,
	// patch, delete).
	Verb string
	// Subresource of nodes: stats, metrics, log, spec or proxy.
	Subresource string
	// Node is the name of the node the endpoint serves.
	Node string
}

// Authorizer decides whether the holder of a verified client certificate
// (user and groups: its common name and organizations) may make a
// request. reason explains a decision when there is one.
type Authorizer interface {
	Authorize(ctx context.Context, user string, groups []string, attrs Attributes) (allowed bool, reason string, err error)
}

// Subresources of nodes that requests map to.
const (
	SubresourceStats   = "stats"
	SubresourceMetrics = "metrics"
	SubresourceLog     = "log"
	SubresourceSpec    = "spec"
	// SubresourceProxy covers everything else: pods, exec, attach,
	// port-forward, run, container logs, health.
	SubresourceProxy = "proxy"
)

// RequestAttributes maps a request to the node's endpoint onto the
// attributes authorized, as upstream's kubelet does: the first path
// segment picks the subresource (/stats → stats, /metrics → metrics,
// /logs → log, /spec → spec, anything else → proxy) and the method the
// verb.
func RequestAttributes(node string, r *http.Request) Attributes {
	return Attributes{Verb: MethodVerb(r.Method), Subresource: PathSubresource(r.URL.Path), Node: node}
}

// PathSubresource is the nodes subresource of a request path. A path that
// is not clean (with "." or ".." segments or doubled slashes) is proxy,
// the widest, so that no spelling of a path reaches another handler under
// a narrower permission.
func PathSubresource(p string) string {
	if clean := path.Clean("/" + p); clean != p && clean+"/" != p {
		return SubresourceProxy
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	switch first {
	case "stats":
		return SubresourceStats
	case "metrics":
		return SubresourceMetrics
	case "logs":
		return SubresourceLog
	case "spec":
		return SubresourceSpec
	}
	return SubresourceProxy
}

// MethodVerb is the API verb of an HTTP method; a method with no verb
// maps to its lower-case name, which only a "*" rule grants.
func MethodVerb(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		return "get"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		return "delete"
	}
	return strings.ToLower(method)
}

// LocalAuthorizer admits the API server's certificate (APIServerUser) and
// members of MastersGroup without asking anyone. The endpoint uses it
// when Config.Authorizer is nil.
type LocalAuthorizer struct{}

var _ Authorizer = LocalAuthorizer{}

// Authorize implements Authorizer.
func (LocalAuthorizer) Authorize(_ context.Context, user string, groups []string, _ Attributes) (bool, string, error) {
	if user == APIServerUser || slices.Contains(groups, MastersGroup) {
		return true, "", nil
	}
	return false, fmt.Sprintf("user %q may not use the node agent's API", user), nil
}

// describe is the parenthesized request description of upstream's
// kubelet messages.
func describe(user string, a Attributes) string {
	return fmt.Sprintf("(user=%s, verb=%s, resource=nodes, subresource=%s)", user, a.Verb, a.Subresource)
}

// withAuthorization admits requests whose verified client certificate's
// holder the Authorizer allows: 401 without a certificate, 403 when
// denied, 500 when the decision failed.
func (s *Server) withAuthorization(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		cert := r.TLS.VerifiedChains[0][0]
		user, groups := cert.Subject.CommonName, cert.Subject.Organization
		attrs := RequestAttributes(s.cfg.NodeName, r)
		allowed, reason, err := s.cfg.Authorizer.Authorize(r.Context(), user, groups, attrs)
		switch {
		case err != nil:
			s.cfg.Logger.Warn("agent endpoint authorization failed", "user", user, "path", r.URL.Path, "err", err)
			http.Error(w, "Authorization error "+describe(user, attrs), http.StatusInternalServerError)
		case !allowed:
			s.cfg.Logger.Debug("agent endpoint request forbidden", "user", user, "path", r.URL.Path, "reason", reason)
			http.Error(w, "Forbidden "+describe(user, attrs), http.StatusForbidden)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
