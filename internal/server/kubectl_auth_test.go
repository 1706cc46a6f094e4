package server_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kubectlAs runs kubectl with a kubeconfig for user in groups and returns
// its standard output, or its standard error when it printed nothing else.
func kubectlAs(t *testing.T, user string, groups []string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl not installed")
	}
	cfg := userConfig(t, user, groups...)
	kc := clientcmdapi.NewConfig()
	kc.Clusters["c"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["u"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts["c"] = &clientcmdapi.Context{Cluster: "c", AuthInfo: "u"}
	kc.CurrentContext = "c"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--kubeconfig", path}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if len(out) == 0 {
		// Errors: what kubectl printed on stderr.
		return strings.TrimSpace(stderr.String()), err
	}
	return strings.TrimSpace(string(out)), err
}

func TestKubectlAuth(t *testing.T) {
	out, err := kubectlAs(t, "erin", []string{"qa"}, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.groups}")
	if err != nil || out != `erin ["qa","system:authenticated"]` {
		t.Errorf("whoami: %q %v", out, err)
	}
	out, err = kubectlAs(t, "erin", nil, "auth", "can-i", "list", "pods", "-n", "default")
	if out != "no" || err == nil {
		t.Errorf("can-i list pods: %q %v", out, err)
	}
	out, err = kubectlAs(t, "erin", nil, "auth", "can-i", "create", "selfsubjectaccessreviews.authorization.k8s.io")
	if out != "yes" || err != nil {
		t.Errorf("can-i create SSAR: %q %v", out, err)
	}
	out, err = kubectlAs(t, "erin", nil, "auth", "can-i", "--list", "-n", "default")
	if err != nil || !strings.Contains(out, "selfsubjectreviews.authentication.k8s.io") || !strings.Contains(out, "[/healthz]") {
		t.Errorf("can-i --list: %v\n%s", err, out)
	}
	out, err = kubectlAs(t, "root", []string{"system:masters"}, "auth", "can-i", "delete", "nodes")
	if out != "yes" || err != nil {
		t.Errorf("master can-i delete nodes: %q %v", out, err)
	}
	out, _ = kubectlAs(t, "erin", nil, "get", "pods", "-n", "default")
	want := `Error from server (Forbidden): pods is forbidden: User "erin" cannot list resource "pods" in API group "" in the namespace "default"`
	if out != want {
		t.Errorf("kubectl get pods:\n%s\nwant\n%s", out, want)
	}
}
