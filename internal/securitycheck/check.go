package securitycheck

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/skiffkube/skiff/internal/auth/pki"
)

// Status is the outcome of a control.
type Status string

// The outcomes: Skip means the control cannot apply (nothing to check,
// such as agent endpoints when no node has joined).
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Result is a control's outcome and why.
type Result struct {
	Status Status
	Reason string
}

func pass(format string, args ...any) Result { return Result{Pass, fmt.Sprintf(format, args...)} }
func fail(format string, args ...any) Result { return Result{Fail, fmt.Sprintf(format, args...)} }

// Control is one benchmark control.
type Control struct {
	// ID is the CIS Kubernetes Benchmark section the control follows.
	ID string
	// Title says what must hold.
	Title string
	// Check decides.
	Check func(ctx context.Context, t *Target) Result
}

// Target is what the controls examine.
type Target struct {
	// Admin is an administrator's client configuration of the server.
	Admin *rest.Config
	// DataDir is the server's data directory.
	DataDir string
	// Now is the time source (certificates issued for probe identities).
	Now func() time.Time

	admin kubernetes.Interface
}

// NewTarget loads the kubeconfig (default <dataDir>/kubeconfig).
func NewTarget(kubeconfig, dataDir string) (*Target, error) {
	if dataDir == "" {
		return nil, fmt.Errorf("a data directory is required")
	}
	if kubeconfig == "" {
		kubeconfig = filepath.Join(dataDir, "kubeconfig")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig %s: %w", kubeconfig, err)
	}
	return newTarget(cfg, dataDir)
}

// newTarget is a Target for admin.
func newTarget(admin *rest.Config, dataDir string) (*Target, error) {
	cs, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return nil, fmt.Errorf("admin client: %w", err)
	}
	return &Target{Admin: admin, DataDir: dataDir, Now: time.Now, admin: cs}, nil
}

// NewTargetFor is a Target for an admin client configuration.
func NewTargetFor(admin *rest.Config, dataDir string) (*Target, error) {
	return newTarget(admin, dataDir)
}

// identity is a client configuration for user in groups, with a
// certificate of the cluster CA found in the data directory (never
// created: a missing CA is an error).
func (t *Target) identity(user string, groups ...string) (*rest.Config, error) {
	dir := filepath.Join(t.DataDir, "tls")
	for _, f := range []string{"ca.crt", "ca.key"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("cluster CA: %w", err)
		}
	}
	ca, err := pki.EnsureCA(dir, "skiff-ca", t.Now())
	if err != nil {
		return nil, fmt.Errorf("cluster CA: %w", err)
	}
	certPEM, keyPEM, err := ca.IssueClientCert(user, groups, 10*time.Minute, t.Now())
	if err != nil {
		return nil, fmt.Errorf("issuing a certificate for %s: %w", user, err)
	}
	cfg := rest.AnonymousClientConfig(t.Admin)
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg, nil
}

// rawGet sends GET path as cfg and returns the status code and body.
func rawGet(ctx context.Context, cfg *rest.Config, path string) (int, string, error) {
	c, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(body), nil
}

// Run checks every control, prints one line per control to w and returns
// the number of failures.
func Run(ctx context.Context, t *Target, controls []Control, w io.Writer) int {
	failed := 0
	for _, c := range controls {
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		r := c.Check(cctx, t)
		cancel()
		if r.Status == Fail {
			failed++
		}
		fmt.Fprintf(w, "[%s] %s %s: %s\n", r.Status, c.ID, c.Title, r.Reason)
	}
	fmt.Fprintf(w, "%d controls, %d failed\n", len(controls), failed)
	return failed
}
