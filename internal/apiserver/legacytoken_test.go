package apiserver_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/skiffkube/skiff/internal/server/servertest"
)

func TestLegacyServiceAccountTokenSecrets(t *testing.T) {
	srv := servertest.Start(t)
	admin := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const ns = "default"
	waitForObject(ctx, t, admin.CoreV1().RESTClient(), "configmaps", ns, "kube-root-ca.crt", watch.Added)

	sa, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	secret := createTokenSecret(ctx, t, admin, ns, "robot-token", "robot")
	if got := secret.Annotations["kubernetes.io/service-account.uid"]; got != string(sa.UID) {
		t.Errorf("uid annotation = %q, want %q", got, sa.UID)
	}
	if string(secret.Data["namespace"]) != ns || !strings.Contains(string(secret.Data["ca.crt"]), "BEGIN CERTIFICATE") {
		t.Errorf("data namespace = %q, ca.crt = %q", secret.Data["namespace"], secret.Data["ca.crt"])
	}
	token := string(secret.Data["token"])
	assertWhoAmI(ctx, t, srv.AdminConfig(), token, string(sa.UID))
	assertKubectlWhoAmI(t, srv.AdminConfig(), token)

	// An update keeps the token.
	secret.Labels = map[string]string{"touched": "yes"}
	if secret, err = admin.CoreV1().Secrets(ns).Update(ctx, secret, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if string(secret.Data["token"]) != token {
		t.Error("an update replaced the token")
	}

	// A Secret naming a missing account is refused.
	_, err = admin.CoreV1().Secrets(ns).Create(ctx, tokenSecret("orphan", "nobody"), metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) {
		t.Errorf("token secret of a missing account: err = %v, want 422", err)
	}

	// So is one naming another UID than the account's.
	stale := tokenSecret("stale", "robot")
	stale.Annotations["kubernetes.io/service-account.uid"] = "not-" + string(sa.UID)
	if _, err = admin.CoreV1().Secrets(ns).Create(ctx, stale, metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Errorf("token secret with a stale UID: err = %v, want 422", err)
	}

	// Deleting the Secret revokes the token.
	if err := admin.CoreV1().Secrets(ns).Delete(ctx, secret.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForObject(ctx, t, admin.CoreV1().RESTClient(), "secrets", ns, secret.Name, watch.Deleted)
	assertUnauthorized(ctx, t, srv.AdminConfig(), token)

	// Deleting the account deletes its token Secrets and revokes them.
	secret = createTokenSecret(ctx, t, admin, ns, "robot-token", "robot")
	token = string(secret.Data["token"])
	assertWhoAmI(ctx, t, srv.AdminConfig(), token, string(sa.UID))
	if err := admin.CoreV1().ServiceAccounts(ns).Delete(ctx, "robot", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitForObject(ctx, t, admin.CoreV1().RESTClient(), "secrets", ns, secret.Name, watch.Deleted)
	assertUnauthorized(ctx, t, srv.AdminConfig(), token)
}

func tokenSecret(name, account string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{"kubernetes.io/service-account.name": account}},
		Type:       corev1.SecretTypeServiceAccountToken,
	}
}

// createTokenSecret creates a token Secret and checks that it came back
// with a token.
func createTokenSecret(ctx context.Context, t *testing.T, c kubernetes.Interface, ns, name, account string) *corev1.Secret {
	t.Helper()
	secret, err := c.CoreV1().Secrets(ns).Create(ctx, tokenSecret(name, account), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(secret.Data["token"]) == 0 {
		t.Fatalf("token secret not filled: %v", secret.Data)
	}
	return secret
}

// bearerClient is a clientset presenting token.
func bearerClient(t *testing.T, admin *rest.Config, token string) kubernetes.Interface {
	t.Helper()
	cfg := rest.AnonymousClientConfig(admin)
	cfg.BearerToken = token
	return kubernetes.NewForConfigOrDie(cfg)
}

func assertWhoAmI(ctx context.Context, t *testing.T, admin *rest.Config, token, uid string) {
	t.Helper()
	r, err := bearerClient(t, admin, token).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectReview with the legacy token: %v", err)
	}
	u := r.Status.UserInfo
	wantGroups := []string{"system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"}
	if u.Username != "system:serviceaccount:default:robot" || u.UID != uid || !slices.Equal(u.Groups, wantGroups) {
		t.Errorf("user = %+v", u)
	}
}

func assertUnauthorized(ctx context.Context, t *testing.T, admin *rest.Config, token string) {
	t.Helper()
	_, err := bearerClient(t, admin, token).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Errorf("revoked legacy token: err = %v, want 401", err)
	}
}

// assertKubectlWhoAmI runs kubectl auth whoami with token.
func assertKubectlWhoAmI(t *testing.T, admin *rest.Config, token string) {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Log("kubectl not installed; skipping kubectl auth whoami")
		return
	}
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: admin.Host, CertificateAuthorityData: admin.CAData}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "c"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "--kubeconfig", path, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").CombinedOutput()
	if err != nil || string(out) != "system:serviceaccount:default:robot" {
		t.Errorf("kubectl auth whoami: %q %v", out, err)
	}
}

// waitForObject waits, with a watch, until the named object exists (want
// Added) or is gone (want Deleted).
func waitForObject(ctx context.Context, t *testing.T, c rest.Interface, resource, ns, name string, want watch.EventType) {
	t.Helper()
	lw := cache.NewListWatchFromClient(c, resource, ns, fields.OneTermEqualSelector("metadata.name", name))
	var objType runtime.Object = &corev1.Secret{}
	if resource == "configmaps" {
		objType = &corev1.ConfigMap{}
	}
	present := func(store cache.Store) (bool, error) {
		_, exists, err := store.GetByKey(ns + "/" + name)
		return exists == (want == watch.Added), err
	}
	_, err := watchtools.UntilWithSync(ctx, lw, objType, present, func(e watch.Event) (bool, error) {
		return e.Type == want, nil
	})
	if err != nil {
		t.Fatalf("waiting for %s %s/%s %s: %v", resource, ns, name, want, err)
	}
}
