package securitycheck

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// weakSuites are TLS 1.2 suites outside the benchmark's strong list (CBC
// with SHA-1, RSA key exchange); the server must refuse each.
func weakSuites() []uint16 {
	return []uint16{
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_RSA_WITH_AES_128_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA,
	}
}

// handshake dials addr with conf and reports whether a TLS session was
// established.
func handshake(ctx context.Context, addr string, conf *tls.Config) error {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: conf}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

func (t *Target) serverAddr() (string, error) {
	u, err := url.Parse(t.Admin.Host)
	if err != nil {
		return "", fmt.Errorf("server URL %q: %w", t.Admin.Host, err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "443"), nil
	}
	return u.Host, nil
}

// checkTLSAt refuses old versions and weak suites at addr.
func checkTLSAt(ctx context.Context, addr string) Result {
	// The probes check the server's choices, not its certificate.
	old := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11} //nolint:gosec // probing
	if err := handshake(ctx, addr, old); err == nil {
		return fail("%s accepted a TLS 1.1 handshake", addr)
	}
	for _, suite := range weakSuites() {
		weak := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}} //nolint:gosec // probing
		if err := handshake(ctx, addr, weak); err == nil {
			return fail("%s accepted the weak suite %s", addr, tls.CipherSuiteName(suite))
		}
	}
	modern := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12} //nolint:gosec // probing
	if err := handshake(ctx, addr, modern); err != nil {
		return fail("%s refused a TLS 1.2 handshake with strong suites: %v", addr, err)
	}
	return pass("%s refuses TLS 1.1 and %d weak TLS 1.2 suites", addr, len(weakSuites()))
}

func checkTLS(ctx context.Context, t *Target) Result {
	addr, err := t.serverAddr()
	if err != nil {
		return fail("%v", err)
	}
	return checkTLSAt(ctx, addr)
}

// agentAddr is the HTTPS endpoint of a node's agent.
func agentAddr(n *corev1.Node) (string, bool) {
	port := n.Status.DaemonEndpoints.KubeletEndpoint.Port
	if port == 0 {
		return "", false
	}
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return net.JoinHostPort(a.Address, strconv.Itoa(int(port))), true
		}
	}
	return "", false
}

func checkAgentAnonymous(ctx context.Context, t *Target) Result {
	nodes, err := t.admin.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fail("listing nodes: %v", err)
	}
	checked := 0
	for i := range nodes.Items {
		addr, ok := agentAddr(&nodes.Items[i])
		if !ok {
			continue
		}
		checked++
		if r := probeAgent(ctx, addr); r.Status != Pass {
			return fail("node %s: %s", nodes.Items[i].Name, r.Reason)
		}
	}
	if checked == 0 {
		return Result{Skip, fmt.Sprintf("no node with an agent endpoint among %d nodes", len(nodes.Items))}
	}
	return pass("%d agent endpoints refuse requests without a client certificate", checked)
}

// probeAgent asks an agent for its pods without a client certificate: the
// handshake must fail or the answer be 401 or 403.
func probeAgent(ctx context.Context, addr string) Result {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // probing
	defer c.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/pods", nil)
	if err != nil {
		return fail("%v", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		if strings.Contains(err.Error(), "tls:") {
			return pass("%s refused the TLS session: %v", addr, err)
		}
		return fail("%s could not be probed: %v", addr, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return fail("%s answered an anonymous GET /pods with %d", addr, resp.StatusCode)
	}
	return pass("%s answered an anonymous GET /pods with %d", addr, resp.StatusCode)
}
