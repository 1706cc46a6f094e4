package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/storage"
	"github.com/skiffkube/skiff/internal/storage/etcd"
)

// shared is the server most tests of the package use: it runs over an
// embedded etcd the test owns, so tests can compact it.
type shared struct {
	srv   *server.Server
	cfg   *rest.Config
	cs    kubernetes.Interface
	dyn   dynamic.Interface
	store storage.Store
}

var fixture shared

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "skiff-server-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emb, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: tmp + "/etcd", UnsafeNoFsync: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer emb.Close()
	client, err := etcd.NewClient(emb.Endpoints(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer client.Close()
	fixture.store = etcd.New(client)
	srv, err := startServer(ctx, tmp+"/data", emb.Endpoints(), 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fixture.srv = srv
	fixture.cfg = srv.AdminConfig()
	fixture.cs = kubernetes.NewForConfigOrDie(fixture.cfg)
	fixture.dyn = dynamic.NewForConfigOrDie(fixture.cfg)
	code := m.Run()
	cancel()
	if err := srv.Wait(); err != nil {
		fmt.Fprintf(os.Stderr, "shared server stopped with %v\n", err)
		code = 1
	}
	return code
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer starts a server on loopback; port 0 picks a free one.
func startServer(ctx context.Context, dataDir string, etcdServers []string, port int) (*server.Server, error) {
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	return server.Start(ctx, server.Config{
		DataDir:     dataDir,
		BindAddress: "127.0.0.1",
		SecurePort:  port,
		EtcdServers: etcdServers,
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		// The API tests check the generation and contents of workloads
		// they write; the workload controllers would write them too (their
		// own packages test them).
		Controllers: server.ControllerOptions{Disabled: []string{"deployment", "replicaset", "replicationcontroller", "daemonset", "statefulset", "job", "cronjob"}},
	})
}

// testNamespace creates a namespace for one test.
func testNamespace(t *testing.T, name string) string {
	t.Helper()
	_, err := fixture.cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	// Wait for what the controllers put in every namespace, so tests that
	// list a namespace see a stable content.
	err = wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err := fixture.cs.CoreV1().ConfigMaps(name).Get(ctx, rootCAConfigMap, metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("namespace %s never got its %s", name, rootCAConfigMap)
	}
	return name
}

// rootCAConfigMap is published in every namespace by the controllers.
const rootCAConfigMap = "kube-root-ca.crt"

// rawResponse is one raw HTTP exchange with the API.
type rawResponse struct {
	code   int
	header http.Header
	body   []byte
}

// raw sends one request with the admin identity.
func raw(t *testing.T, method, path, contentType string, body io.Reader) rawResponse {
	t.Helper()
	return rawWith(t, fixture.cfg, method, path, contentType, body)
}

func rawWith(t *testing.T, cfg *rest.Config, method, path, contentType string, body io.Reader) rawResponse {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(cfg.Host, "/")+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return rawResponse{code: resp.StatusCode, header: resp.Header, body: data}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func cm(ns, name string, data map[string]string, labels map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: data}
}

func pod(ns, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
