package apiserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// getJSON fetches url with c into v, failing unless the answer is 200 of
// content type ct.
func getJSON(t *testing.T, c *http.Client, url, ct string, v any) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if got := resp.Header.Get("Content-Type"); got != ct {
		t.Errorf("GET %s: content type %q, want %q", url, got, ct)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestOIDCDiscoveryVerifiesTokens fetches the issuer discovery documents
// as a service account (as system:serviceaccounts may) and verifies a
// TokenRequest token with the published key.
func TestOIDCDiscoveryVerifiesTokens(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler, c.DisableControllerManager = true, true
	})
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "oidc-reader"}}
	if _, err := admin.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// One token for the API (to read the documents), one for another
	// audience (to verify with them, as a third party would).
	var tokens []string
	for _, auds := range [][]string{nil, {"vault"}} {
		tr, err := admin.CoreV1().ServiceAccounts("default").CreateToken(ctx, "oidc-reader",
			&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{Audiences: auds}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tr.Status.Token)
	}
	token := tokens[1]
	cfg := rest.AnonymousClientConfig(srv.AdminConfig())
	cfg.BearerToken = tokens[0]
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}

	var conf struct {
		Issuer        string   `json:"issuer"`
		JWKSURI       string   `json:"jwks_uri"`
		ResponseTypes []string `json:"response_types_supported"`
		SubjectTypes  []string `json:"subject_types_supported"`
		Algs          []string `json:"id_token_signing_alg_values_supported"`
	}
	getJSON(t, c, srv.URL+"/.well-known/openid-configuration", "application/json", &conf)
	if conf.Issuer != "https://kubernetes.default.svc.cluster.local" || !strings.HasSuffix(conf.JWKSURI, "/openid/v1/jwks") ||
		!strings.HasPrefix(conf.JWKSURI, "https://") || !slices.Equal(conf.ResponseTypes, []string{"id_token"}) ||
		!slices.Equal(conf.SubjectTypes, []string{"public"}) || !slices.Equal(conf.Algs, []string{"ES256"}) {
		t.Fatalf("configuration %+v", conf)
	}
	var set struct {
		Keys []struct{ Kty, Crv, Kid, Alg, Use, X, Y string } `json:"keys"`
	}
	getJSON(t, c, srv.URL+"/openid/v1/jwks", "application/jwk-set+json", &set)
	if len(set.Keys) != 1 {
		t.Fatalf("%d keys, want 1", len(set.Keys))
	}
	k := set.Keys[0]
	if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || k.Use != "sig" {
		t.Fatalf("key %+v", k)
	}

	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	enc := base64.RawURLEncoding
	var header struct{ Alg, Kid string }
	hb, _ := enc.DecodeString(parts[0])
	if err := json.Unmarshal(hb, &header); err != nil || header.Kid != k.Kid || header.Alg != "ES256" {
		t.Fatalf("token header %s (%v), key id %q", hb, err, k.Kid)
	}
	x, _ := enc.DecodeString(k.X)
	y, _ := enc.DecodeString(k.Y)
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	sig, _ := enc.DecodeString(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("the token does not verify with the published key")
	}
	// A tampered token does not.
	digest[0] ^= 1
	if ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("a tampered digest verified")
	}
	var claims struct {
		Iss string   `json:"iss"`
		Aud []string `json:"aud"`
	}
	pb, _ := enc.DecodeString(parts[1])
	if err := json.Unmarshal(pb, &claims); err != nil || claims.Iss != conf.Issuer || !slices.Equal(claims.Aud, []string{"vault"}) {
		t.Fatalf("claims %s (%v)", pb, err)
	}
}

func TestOIDCDiscoveryNeedsCredentials(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler, c.DisableControllerManager = true, true
	})
	c, err := rest.HTTPClientFor(rest.AnonymousClientConfig(srv.AdminConfig()))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(srv.URL + "/openid/v1/jwks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous GET of the key set: %d, want 401", resp.StatusCode)
	}
}
