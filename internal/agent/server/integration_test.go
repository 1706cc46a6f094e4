package server_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/agent"
	agentserver "github.com/skiffkube/skiff/internal/agent/server"
	"github.com/skiffkube/skiff/internal/image"
	"github.com/skiffkube/skiff/internal/network"
	"github.com/skiffkube/skiff/internal/runtime/cri"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// The test's own pod network, apart from a real node's and the CRI
// package test's.
const (
	testCIDR   = "10.244.201.0/24"
	testBridge = "skiffsrv0"
	nodeName   = "streams"
)

// cluster is a control plane with one real node whose agent endpoint
// runs on loopback.
type cluster struct {
	srv *server.Server
	cs  kubernetes.Interface
	// dataDir is the control plane's (its CA is under tls/).
	dataDir string
	// endpoint is the agent endpoint's URL, serving with endpointCert.
	endpoint     string
	endpointCert *x509.Certificate
}

// startCluster starts containerd, a control plane, an agent over the CRI
// runtime and the agent's endpoint.
func startCluster(t *testing.T, ctx context.Context) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containerd and containers")
	}
	for _, bin := range []string{"containerd", "runc"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed", bin)
		}
	}
	rt := startRuntime(t, ctx)
	serverDir := t.TempDir()
	srv := servertest.Start(t, func(c *server.Config) { c.DataDir = serverDir })
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CAPEM()) {
		t.Fatal("no cluster CA")
	}
	cert, err := agentserver.SelfSignedCertificate([]string{"127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	nodeCfg, err := srv.ComponentConfig("node:" + nodeName)
	if err != nil {
		t.Fatal(err)
	}
	nodeClient := kubernetes.NewForConfigOrDie(nodeCfg)
	// The endpoint asks the API server, as the node, who may use it;
	// denials are remembered only briefly so that a new binding shows.
	authz, err := agentserver.NewSARAuthorizer(agentserver.SARConfig{
		Reviews: nodeClient.AuthorizationV1().SubjectAccessReviews(), DenyTTL: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	as, err := agentserver.New(agentserver.Config{
		Pods: agentserver.RuntimePods{Runtime: rt, DataDir: dataDir}, Streamer: rt,
		Certificate: cert, ClientCAs: pool, LogPollInterval: 50 * time.Millisecond,
		NodeName: nodeName, Authorizer: authz,
	})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{
		NodeName: nodeName, Client: nodeClient, Runtime: rt, NodeIP: "127.0.0.1",
		KubeletPort: int32(l.Addr().(*net.TCPAddr).Port), DataDir: dataDir, DisableEvents: true,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithCancel(context.Background())
	agentDone, serverDone := make(chan error, 1), make(chan error, 1)
	go func() { agentDone <- a.Run(actx) }()
	go func() { serverDone <- as.Serve(actx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-agentDone; err != nil {
			t.Errorf("agent: %v", err)
		}
		if err := <-serverDone; err != nil {
			t.Errorf("agent endpoint: %v", err)
		}
	})
	return &cluster{srv: srv, cs: cs, dataDir: serverDir, endpoint: "https://" + l.Addr().String(), endpointCert: cert.Leaf}
}

// startRuntime starts containerd in a temporary directory with the test
// network and Skiff's images.
func startRuntime(t *testing.T, ctx context.Context) *cri.Runtime {
	t.Helper()
	imagesDir := t.TempDir()
	if _, err := image.BuildAll(ctx, imagesDir); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "skiff-srv-")
	if err != nil {
		t.Fatal(err)
	}
	mctx, stop := context.WithCancel(context.Background())
	node, err := cri.StartNode(mctx, cri.NodeOptions{Dir: dir, ImagesDir: imagesDir, PodCIDR: testCIDR,
		Network: network.BridgeOptions{Bridge: testBridge, Name: "skiffsrv"}})
	if err != nil {
		stop()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := node.RemoveAll(cctx); err != nil {
			t.Errorf("remove all: %v", err)
		}
		node.Close()
		stop()
		<-node.Manager.Done()
		_ = exec.Command("ip", "link", "del", testBridge).Run()
		_ = os.RemoveAll(dir)
	})
	for node.Ready(ctx) != nil {
		select {
		case <-ctx.Done():
			t.Fatalf("runtime not ready: %v", node.Ready(ctx))
		case <-time.After(100 * time.Millisecond):
		}
	}
	return node.Runtime
}

// runPod creates the test pod on the node and waits until both its
// containers run: "web" serves HTTP on 8080, "logger" prints a numbered
// line every 100ms.
func (c *cluster) runPod(t *testing.T, ctx context.Context) *corev1.Pod {
	t.Helper()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "streams", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName: nodeName,
			Containers: []corev1.Container{
				{Name: "web", Image: image.TestImage},
				{Name: "logger", Image: image.BusyboxImage, Command: []string{"sh", "-c",
					`i=0; while true; do echo "line $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.1; done`}},
			},
			TerminationGracePeriodSeconds: new(int64),
		},
	}
	if _, err := c.cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for {
		p, err := c.cs.CoreV1().Pods("default").Get(ctx, pod.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		running := 0
		for _, st := range p.Status.ContainerStatuses {
			if st.State.Running != nil {
				running++
			}
		}
		if running == 2 {
			return p
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod not running: %+v", p.Status)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// kubectl runs the stock kubectl against the cluster.
func (c *cluster) kubectl(ctx context.Context, stdin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "kubectl", append([]string{"--kubeconfig", c.srv.KubeconfigPath}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func TestStreamsThroughAPIServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := startCluster(t, ctx)
	if err := c.cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", nodeName, "proxy", "healthz").Do(ctx).Error(); apierrors.ReasonForError(err) == "NotImplemented" {
		t.Fatalf("the API server has no kubelet client (apiserver.Config.Kubelet is not wired): %v", err)
	}
	pod := c.runPod(t, ctx)
	t.Run("Logs", func(t *testing.T) { testLogs(t, ctx, c, pod) })
	t.Run("LogErrors", func(t *testing.T) { testLogErrors(t, ctx, c, pod) })
	t.Run("ExecSPDY", func(t *testing.T) { testExec(t, ctx, c, pod, false) })
	t.Run("ExecWebSocket", func(t *testing.T) { testExec(t, ctx, c, pod, true) })
	t.Run("AttachSPDY", func(t *testing.T) { testAttach(t, ctx, c, pod, false) })
	t.Run("AttachWebSocket", func(t *testing.T) { testAttach(t, ctx, c, pod, true) })
	t.Run("PortForward", func(t *testing.T) { testPortForward(t, ctx, c, pod) })
	t.Run("NodeProxy", func(t *testing.T) { testNodeProxy(t, ctx, c) })
	t.Run("DirectAccess", func(t *testing.T) { testDirectAccess(t, ctx, c) })
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Log("kubectl not installed: skipping the kubectl checks")
		return
	}
	t.Run("Kubectl", func(t *testing.T) { testKubectl(t, ctx, c, pod) })
}

// tempFile writes data to a file in the test's directory.
func tempFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
