package server_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/auth/join"
)

// tokenClient is a client authenticating with a bearer token only.
func tokenClient(t *testing.T, token string) kubernetes.Interface {
	cfg := rest.AnonymousClientConfig(fixture.cfg)
	cfg.BearerToken = token
	return clientFor(t, cfg)
}

// whoami returns the user name the token authenticates as, or the error.
func whoami(ctx context.Context, cs kubernetes.Interface) (*authenticationv1.SelfSubjectReview, error) {
	return cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
}

// waitUnauthorized polls until the token is refused.
func waitUnauthorized(t *testing.T, cs kubernetes.Interface, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		_, err := whoami(ctxT(t), cs)
		if apierrors.IsUnauthorized(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("token still accepted after %v (last error %v)", limit, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServiceAccountTokenLifecycle(t *testing.T) {
	ns := testNamespace(t, "sa-tokens")
	ctx := ctxT(t)
	sas := fixture.cs.CoreV1().ServiceAccounts(ns)
	if _, err := sas.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "builder"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := sas.CreateToken(ctx, "builder", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Status.Token == "" || time.Until(tr.Status.ExpirationTimestamp.Time) < 50*time.Minute {
		t.Fatalf("token request status = %+v", tr.Status)
	}
	cs := tokenClient(t, tr.Status.Token)
	ssr, err := whoami(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	u := ssr.Status.UserInfo
	if u.Username != "system:serviceaccount:"+ns+":builder" ||
		strings.Join(u.Groups, ",") != "system:serviceaccounts,system:serviceaccounts:"+ns+",system:authenticated" {
		t.Errorf("user = %+v", u)
	}
	// RBAC applies to it.
	if _, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) ||
		!strings.Contains(err.Error(), `User "system:serviceaccount:`+ns+`:builder" cannot list`) {
		t.Errorf("list pods as the service account: %v", err)
	}
	// TokenReview agrees, for the API audience and not for another.
	rev, err := fixture.cs.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: tr.Status.Token}}, metav1.CreateOptions{})
	if err != nil || !rev.Status.Authenticated || rev.Status.User.Username != u.Username {
		t.Errorf("token review: %+v %v", rev, err)
	}
	rev, err = fixture.cs.AuthenticationV1().TokenReviews().Create(ctx, &authenticationv1.TokenReview{
		Spec: authenticationv1.TokenReviewSpec{Token: tr.Status.Token, Audiences: []string{"vault"}}}, metav1.CreateOptions{})
	if err != nil || rev.Status.Authenticated {
		t.Errorf("token review for another audience: %+v %v", rev.Status, err)
	}
	// Deleting the service account kills the token.
	if err := sas.Delete(ctx, "builder", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUnauthorized(t, cs, 5*time.Second)
}

func TestPodBoundToken(t *testing.T) {
	ns := testNamespace(t, "sa-pod-tokens")
	ctx := ctxT(t)
	if _, err := fixture.cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "app"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := pod(ns, "app")
	p.Spec.ServiceAccountName = "app"
	created, err := fixture.cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := fixture.cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "app", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "app", UID: created.UID},
	}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs := tokenClient(t, tr.Status.Token)
	ssr, err := whoami(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	if got := ssr.Status.UserInfo.Extra["authentication.kubernetes.io/pod-name"]; len(got) != 1 || got[0] != "app" {
		t.Errorf("extra = %v", ssr.Status.UserInfo.Extra)
	}
	zero := int64(0)
	if err := fixture.cs.CoreV1().Pods(ns).Delete(ctx, "app", metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	waitUnauthorized(t, cs, 5*time.Second)
	// A binding to a missing pod is refused.
	_, err = fixture.cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "app", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: "app"},
	}}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("token bound to a missing pod: %v", err)
	}
}

func TestJoinWithBootstrapToken(t *testing.T) {
	ctx := ctxT(t)
	token, err := fixture.srv.CreateJoinToken(ctx, time.Hour, "test join")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "sha256:") {
		t.Fatalf("join token %q", token)
	}
	_, bootstrap, err := join.ParseToken(token)
	if err != nil {
		t.Fatal(err)
	}
	ssr, err := whoami(ctx, tokenClient(t, bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	if u := ssr.Status.UserInfo; !strings.HasPrefix(u.Username, "system:bootstrap:") || u.Groups[0] != "system:bootstrappers" {
		t.Errorf("bootstrap user = %+v", u)
	}
	// The agent side: only the URL and the join token.
	creds, err := join.RequestNodeCredentials(ctx, fixture.srv.URL, token, "joined-1", nil)
	if err != nil {
		t.Fatal(err)
	}
	node := clientFor(t, creds.RESTConfig(fixture.srv.URL))
	ssr, err = whoami(ctx, node)
	if err != nil {
		t.Fatal(err)
	}
	if u := ssr.Status.UserInfo; u.Username != "system:node:joined-1" || u.Groups[0] != "system:nodes" {
		t.Errorf("node user = %+v", u)
	}
	if _, err := node.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("node lists nodes: %v", err)
	}
	// The node renews its own certificate with the current one; it may
	// not get one for another node.
	renewed, err := join.RenewNodeCredentials(ctx, fixture.srv.URL, creds, "joined-1")
	if err != nil {
		t.Fatalf("renewing: %v", err)
	}
	if bytes.Equal(renewed.CertPEM, creds.CertPEM) || bytes.Equal(renewed.KeyPEM, creds.KeyPEM) {
		t.Error("renewal returned the same certificate or key")
	}
	if ssr, err := whoami(ctx, clientFor(t, renewed.RESTConfig(fixture.srv.URL))); err != nil || ssr.Status.UserInfo.Username != "system:node:joined-1" {
		t.Errorf("renewed credentials: %v %+v", err, ssr)
	}
	if _, err := join.RenewNodeCredentials(ctx, fixture.srv.URL, creds, "other-node"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("renewing another node's certificate: %v", err)
	}
	// A wrong CA pin is refused before the token is sent.
	bad := "sha256:" + strings.Repeat("0", 64) + "::" + bootstrap
	if _, err := join.RequestNodeCredentials(ctx, fixture.srv.URL, bad, "joined-2", nil); err == nil || !strings.Contains(err.Error(), "pinned CA") {
		t.Errorf("wrong pin: %v", err)
	}
	// A pinned CA file works as well as the hash.
	if _, err := join.RequestNodeCredentials(ctx, fixture.srv.URL, token, "joined-3", creds.CAPEM); err != nil {
		t.Errorf("second join with the same token: %v", err)
	}
	// Deleting the token Secret revokes it.
	id := strings.SplitN(bootstrap, ".", 2)[0]
	if err := fixture.cs.CoreV1().Secrets("kube-system").Delete(ctx, "bootstrap-token-"+id, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUnauthorized(t, tokenClient(t, bootstrap), 5*time.Second)
}
