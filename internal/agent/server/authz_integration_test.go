package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/auth/pki"
)

// testDirectAccess calls the agent endpoint directly with a certificate
// of the cluster CA whose holder RBAC grants nothing, then binds it to
// system:kubelet-api-admin.
func testDirectAccess(t *testing.T, ctx context.Context, c *cluster) {
	now := time.Now()
	ca, err := pki.EnsureCA(filepath.Join(c.dataDir, "tls"), "skiff-ca", now)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueClientCert("eve", []string{"eve-team"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.endpointCert)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots}}}
	get := func(path string) (int, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(b))
	}
	logs := "/containerLogs/default/streams/logger?tailLines=1"
	for path, want := range map[string]string{
		logs:             "Forbidden (user=eve, verb=get, resource=nodes, subresource=proxy)",
		"/stats/summary": "Forbidden (user=eve, verb=get, resource=nodes, subresource=stats)",
	} {
		if code, body := get(path); code != http.StatusForbidden || body != want {
			t.Errorf("eve without RBAC, %s: got %d %q, want 403 %q", path, code, body, want)
		}
	}

	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "eve-kubelet-api-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:kubelet-api-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "eve"}},
	}
	if _, err := c.cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The API server's authorizer sees the binding soon after.
	for {
		code, body := get(logs)
		if code == http.StatusOK {
			if !strings.HasPrefix(body, "line ") && !strings.HasPrefix(body, "err ") {
				t.Errorf("eve's logs: %q", body)
			}
			break
		}
		if code != http.StatusForbidden {
			t.Fatalf("eve bound, logs: got %d %q", code, body)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("eve still forbidden after the binding: %q", body)
		case <-time.After(50 * time.Millisecond):
		}
	}
	// Allowed now; this endpoint has no stats source, so 501 past authorization.
	if code, body := get("/stats/summary"); code != http.StatusNotImplemented {
		t.Errorf("eve bound, /stats/summary: got %d %q, want 501", code, body)
	}
}
