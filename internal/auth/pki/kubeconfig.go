package pki

import (
	"errors"
	"fmt"
	"os"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// WriteKubeconfig writes a kubeconfig file at path (mode 0600) with one
// cluster, one user and one context, all named contextName, and selects that
// context. The CA is embedded; the client certificate and key are referenced
// by path so that reissuing them does not require rewriting the file.
func WriteKubeconfig(path, serverURL string, caPEM []byte, clientCertPath, clientKeyPath, contextName string) error {
	if contextName == "" {
		return errors.New("write kubeconfig: context name is empty")
	}
	cfg := clientcmdapi.NewConfig()
	cluster := clientcmdapi.NewCluster()
	cluster.Server = serverURL
	cluster.CertificateAuthorityData = caPEM
	cfg.Clusters[contextName] = cluster

	user := clientcmdapi.NewAuthInfo()
	user.ClientCertificate = clientCertPath
	user.ClientKey = clientKeyPath
	cfg.AuthInfos[contextName] = user

	kctx := clientcmdapi.NewContext()
	kctx.Cluster = contextName
	kctx.AuthInfo = contextName
	cfg.Contexts[contextName] = kctx
	cfg.CurrentContext = contextName

	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	// WriteToFile keeps the mode of a file that already existed.
	if err := os.Chmod(path, keyMode); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}
