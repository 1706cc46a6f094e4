package apiserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DefaultKubeletPort is where agents serve when their Node does not say.
const DefaultKubeletPort = 10250

// KubeletClientConfig says how the API server reaches node agents.
type KubeletClientConfig struct {
	// Certificate returns the client certificate the API server presents
	// to agents (signed by the cluster CA, which agents require); it is
	// asked on every new connection, so a rotated certificate is used.
	Certificate func(*tls.CertificateRequestInfo) (*tls.Certificate, error)
	// RootCAs verify the agents' serving certificates; nil does not verify
	// them, as upstream does by default (agents sign their own).
	RootCAs *x509.CertPool
	// DialTimeout bounds connecting to an agent (10s).
	DialTimeout time.Duration
}

// KubeletClient reaches node agents over HTTPS for pods/log, exec,
// attach, portforward and nodes/proxy. It is safe for concurrent use.
type KubeletClient struct {
	transport *http.Transport
}

// NewKubeletClient builds the client with its connection pool.
func NewKubeletClient(cfg KubeletClientConfig) *KubeletClient {
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	tc := &tls.Config{
		MinVersion:           tls.VersionTLS12,
		GetClientCertificate: cfg.Certificate,
		RootCAs:              cfg.RootCAs,
		// Connection upgrades (exec, attach, port-forward) need HTTP/1.1.
		NextProtos:         []string{"http/1.1"},
		InsecureSkipVerify: cfg.RootCAs == nil, //nolint:gosec // as upstream's default: agents' certificates are self-signed
	}
	d := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	return &KubeletClient{transport: &http.Transport{
		DialContext:         d.DialContext,
		TLSClientConfig:     tc,
		TLSHandshakeTimeout: cfg.DialTimeout,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   false,
	}}
}

// kubeletClient is Config.Kubelet; nil answers agent-backed subresources
// 501.
func (s *Server) kubeletClient() *KubeletClient { return s.cfg.Kubelet }

// Transport is the client's round tripper (for requests of the API
// server's own, such as stats).
func (c *KubeletClient) Transport() http.RoundTripper { return c.transport }

// nodeURL is the base URL of a node's agent endpoint: its first usable
// address and its advertised kubelet port. port overrides that port when
// not 0.
func (s *Server) nodeURL(ctx context.Context, nodeName string, port int) (*url.URL, error) {
	rs, ok := s.stores[schema.GroupVersionResource{Version: "v1", Resource: "nodes"}]
	if !ok {
		return nil, apierrors.NewInternalError(errors.New("no node store"))
	}
	obj, err := s.getObject(ctx, rs, "", nodeName, "")
	if err != nil {
		return nil, err
	}
	node := obj.(*corev1.Node)
	host := nodeAddress(node)
	if host == "" {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("node %q has no address", nodeName))
	}
	if port == 0 {
		port = int(node.Status.DaemonEndpoints.KubeletEndpoint.Port)
	}
	if port == 0 {
		port = DefaultKubeletPort
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// nodeAddress picks the address to reach a node at: InternalIP first, as
// agents advertise it, then the other kinds.
func nodeAddress(n *corev1.Node) string {
	for _, t := range []corev1.NodeAddressType{corev1.NodeInternalIP, corev1.NodeInternalDNS, corev1.NodeHostName, corev1.NodeExternalIP, corev1.NodeExternalDNS} {
		for _, a := range n.Status.Addresses {
			if a.Type == t && a.Address != "" {
				return a.Address
			}
		}
	}
	return ""
}

// proxyToKubelet passes r (upgrades included) to target on an agent.
// With check, a non-2xx answer becomes a Status error for gr/name, as
// upstream turns the kubelet's errors into API errors.
func (s *Server) proxyToKubelet(w http.ResponseWriter, r *http.Request, target *url.URL, gr schema.GroupResource, name string, check bool) {
	p := &httputil.ReverseProxy{
		Transport: s.kubeletClient().transport,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = target.Host
			// The caller's credentials are for the API server only.
			pr.Out.Header.Del("Authorization")
			for k := range pr.Out.Header {
				if strings.HasPrefix(k, "Impersonate-") {
					pr.Out.Header.Del(k)
				}
			}
		},
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var se *apierrors.StatusError
			if !errors.As(err, &se) {
				se = &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
					Message: fmt.Sprintf("error trying to reach the node agent: %v", err)}}
			}
			s.resp.writeError(w, r, se)
		},
	}
	if check {
		p.ModifyResponse = func(resp *http.Response) error { return kubeletResponseError(resp, gr, name) }
	}
	p.ServeHTTP(w, r)
}

// kubeletResponseError turns an agent's error answer (plain text) into a
// Status error; 2xx and 101 pass.
func kubeletResponseError(resp *http.Response, gr schema.GroupResource, name string) error {
	if resp.StatusCode == http.StatusSwitchingProtocols || (resp.StatusCode >= 200 && resp.StatusCode <= 206) {
		return nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 16*1024))
	msg := strings.TrimSpace(string(body))
	reason := metav1.StatusReasonUnknown
	switch resp.StatusCode {
	case http.StatusBadRequest:
		reason = metav1.StatusReasonBadRequest
	case http.StatusNotFound:
		reason = metav1.StatusReasonNotFound
	case http.StatusForbidden:
		reason = metav1.StatusReasonForbidden
	case http.StatusUnauthorized:
		reason = metav1.StatusReasonUnauthorized
	case http.StatusInternalServerError:
		reason = metav1.StatusReasonInternalError
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: int32(resp.StatusCode), Reason: reason, Message: msg,
		Details: &metav1.StatusDetails{Name: name, Group: gr.Group, Kind: gr.Resource}}}
}
