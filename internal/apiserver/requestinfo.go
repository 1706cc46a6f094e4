package apiserver

import (
	"net/http"
	"net/url"
	"strings"
)

// requestInfo is what a URL and method say about a request.
type requestInfo struct {
	// IsResource is false for /version, /healthz, discovery roots, ...
	IsResource bool
	Path       string
	// Verb is the Kubernetes verb: get, list, watch, create, update, patch,
	// delete, deletecollection (resource requests) or the lower-case HTTP
	// method (non-resource requests).
	Verb        string
	APIPrefix   string // "api" or "apis"
	APIGroup    string
	APIVersion  string
	Namespace   string
	Resource    string
	Subresource string
	Name        string
}

// namespaceSubresources are the subresources of namespaces themselves;
// anything else after /namespaces/<ns>/ is a namespaced resource.
func isNamespaceSubresource(s string) bool { return s == "status" || s == "finalize" }

// parseRequestInfo classifies a request the way upstream's request-info
// factory does.
func parseRequestInfo(r *http.Request) requestInfo {
	info := requestInfo{Path: r.URL.Path, Verb: strings.ToLower(r.Method)}
	parts := splitPath(r.URL.Path)
	if len(parts) < 2 {
		return info
	}
	switch parts[0] {
	case "api":
		info.APIPrefix = "api"
		parts = parts[1:]
	case "apis":
		info.APIPrefix = "apis"
		if len(parts) < 3 {
			return info
		}
		info.APIGroup = parts[1]
		parts = parts[2:]
	default:
		return info
	}
	info.APIVersion = parts[0]
	parts = parts[1:]
	if len(parts) == 0 {
		return info
	}
	info.IsResource = true

	watchPath := false
	if parts[0] == "watch" {
		watchPath = true
		parts = parts[1:]
	}
	if len(parts) > 0 && parts[0] == "namespaces" && len(parts) > 1 {
		info.Namespace = parts[1]
		if len(parts) > 2 && !isNamespaceSubresource(parts[2]) {
			parts = parts[2:]
		}
	}
	if len(parts) > 0 {
		info.Resource = parts[0]
	}
	if len(parts) > 1 {
		info.Name = parts[1]
	}
	if len(parts) > 2 {
		info.Subresource = parts[2]
	}
	// The namespace resource names itself: /api/v1/namespaces/foo.
	if info.Resource == "namespaces" {
		info.Namespace = ""
	}
	info.Verb = verbFor(r.Method, info.Name, watchPath || isWatchQuery(r.URL.Query()))
	return info
}

func verbFor(method, name string, watch bool) string {
	switch method {
	case http.MethodGet, http.MethodHead:
		switch {
		case watch:
			return "watch"
		case name == "":
			return "list"
		default:
			return "get"
		}
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if name == "" {
			return "deletecollection"
		}
		return "delete"
	}
	return strings.ToLower(method)
}

func isWatchQuery(q url.Values) bool {
	v := q.Get("watch")
	return v == "true" || v == "1"
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
