package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/auth/bootstraptoken"
	"github.com/skiffkube/skiff/internal/auth/join"
)

// CreateJoinToken creates a bootstrap token Secret in kube-system through
// the API at admin (a client allowed to create Secrets there, such as the
// admin kubeconfig) and returns the join token an agent passes to
// `skiff agent --token`: "sha256:<CA hash>::<id>.<secret>". ttl 0 makes a
// token that never expires. The CA comes from admin's TLS configuration.
func CreateJoinToken(ctx context.Context, admin *rest.Config, ttl time.Duration, description string) (string, error) {
	caPEM := admin.TLSClientConfig.CAData
	if len(caPEM) == 0 && admin.TLSClientConfig.CAFile != "" {
		data, err := os.ReadFile(admin.TLSClientConfig.CAFile)
		if err != nil {
			return "", fmt.Errorf("join token: reading the CA: %w", err)
		}
		caPEM = data
	}
	if len(caPEM) == 0 {
		return "", errors.New("join token: the client configuration has no CA certificate")
	}
	cs, err := kubernetes.NewForConfig(withAgent(admin, "skiff-token"))
	if err != nil {
		return "", fmt.Errorf("join token: %w", err)
	}
	token, err := bootstraptoken.Generate()
	if err != nil {
		return "", err
	}
	secret, err := bootstraptoken.Secret(token, description, ttl, time.Now(), nil)
	if err != nil {
		return "", err
	}
	if _, err := cs.CoreV1().Secrets(bootstraptoken.Namespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("join token: creating the token Secret: %w", err)
	}
	return join.FormatToken(caPEM, token)
}

// CreateJoinToken creates a join token with the server's admin identity.
func (s *Server) CreateJoinToken(ctx context.Context, ttl time.Duration, description string) (string, error) {
	return CreateJoinToken(ctx, s.admin, ttl, description)
}
