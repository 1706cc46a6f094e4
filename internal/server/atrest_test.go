package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/apiserver"
	"github.com/skiffkube/skiff/internal/apiserver/audit"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/storage/encrypt"
	"github.com/skiffkube/skiff/internal/storage/etcd/etcdtest"
)

// startOn starts a server on dir with extra configuration and returns it
// with a stop function that checks it stopped cleanly.
func startOn(t *testing.T, dir string, adjust func(*server.Config)) (*server.Server, func()) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{DataDir: dir, BindAddress: "127.0.0.1", SecurePort: port,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), DisableScheduler: true}
	if adjust != nil {
		adjust(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("starting the server on %s: %v", dir, err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := srv.Wait(); err != nil {
			t.Errorf("server stopped with %v", err)
		}
	}
	t.Cleanup(stop)
	return srv, stop
}

// rawValue reads key from the stopped server's etcd data directory.
func rawValue(t *testing.T, dir, key string) []byte {
	t.Helper()
	e := etcdtest.StartEmbeddedIn(t, filepath.Join(dir, "etcd"))
	s := etcdtest.NewStore(t, e.Endpoints())
	kv, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("raw get %s: %v", key, err)
	}
	s.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return kv.Value
}

func TestSecretsEncryptedAtRestAndRotated(t *testing.T) {
	dir := t.TempDir()
	srv, stop := startOn(t, dir, nil)
	fi, err := os.Stat(filepath.Join(dir, "encryption-config.yaml"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated encryption config: %v %v", fi, err)
	}
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx := context.Background()
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db"}, StringData: map[string]string{"password": "hunter2-at-rest"}}
	if _, err := cs.CoreV1().Secrets("default").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	raw, err := cs.Discovery().RESTClient().Post().AbsPath(apiserver.SecretsEncryptPath + "/rotate").Do(ctx).Raw()
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	var res encrypt.RotateResult
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	// Every secret (ours and the bootstrap ones) now uses key2.
	if res.NewKey != "secretbox:key2" || res.Rewritten < 1 || len(res.Status.Resources[0].Stored) != 1 {
		t.Fatalf("rotate answered %s", raw)
	}
	got, err := cs.CoreV1().Secrets("default").Get(ctx, "db", metav1.GetOptions{})
	if err != nil || string(got.Data["password"]) != "hunter2-at-rest" {
		t.Fatalf("secret after rotation: %v %v", got, err)
	}
	stop()

	value := rawValue(t, dir, "/registry/secrets/default/db")
	if strings.Contains(string(value), "hunter2") || strings.Contains(string(value), "aHVudGVyMi") || encrypt.KeyOf(value) != "secretbox:key2" {
		t.Fatalf("raw etcd value %q: want sealed with secretbox:key2", value)
	}

	srv, _ = startOn(t, dir, nil)
	cs = kubernetes.NewForConfigOrDie(srv.AdminConfig())
	got, err = cs.CoreV1().Secrets("default").Get(ctx, "db", metav1.GetOptions{})
	if err != nil || string(got.Data["password"]) != "hunter2-at-rest" {
		t.Fatalf("secret after restart: %v %v", got, err)
	}
}

// readAudit waits until the log at path holds an event that match
// accepts, and returns the events read.
func readAudit(t *testing.T, path string, match func(audit.Event) bool) []audit.Event {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var events []audit.Event
		if f, err := os.Open(path); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var e audit.Event
				if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
					t.Fatalf("audit line %q: %v", sc.Text(), err)
				}
				events = append(events, e)
			}
			f.Close()
		}
		for _, e := range events {
			if match(e) {
				return events
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no matching event in %s after 20s (%d events)", path, len(events))
		}
		time.Sleep(50 * time.Millisecond) // the log is written every 50ms
	}
}

func kubectl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	out, err := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestAuditLogDefaultPolicy(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl not installed")
	}
	dir := t.TempDir()
	srv, _ := startOn(t, dir, nil)
	kubectl(t, srv.KubeconfigPath, "create", "configmap", "audited", "--from-literal=k=v")
	kubectl(t, srv.KubeconfigPath, "get", "configmap", "audited")
	path := filepath.Join(dir, "audit", "audit.log")
	isGet := func(e audit.Event) bool {
		return e.Verb == "get" && e.ObjectRef != nil && e.ObjectRef.Resource == "configmaps" && e.ObjectRef.Name == "audited"
	}
	events := readAudit(t, path, isGet)
	var create, get *audit.Event
	for i, e := range events {
		switch {
		case e.Verb == "create" && e.ObjectRef != nil && e.ObjectRef.Resource == "configmaps":
			create = &events[i]
		case isGet(e):
			get = &events[i]
		}
		if e.Stage == audit.StageRequestReceived || (e.ObjectRef != nil && e.ObjectRef.Resource == "events") {
			t.Fatalf("the default policy recorded %+v", e)
		}
	}
	if create == nil || get == nil {
		t.Fatalf("create %v get %v", create, get)
	}
	for _, e := range []*audit.Event{create, get} {
		if e.Level != audit.LevelMetadata || e.User.Username != "skiff-admin" || e.ObjectRef.Namespace != "default" ||
			e.RequestObject != nil || e.Annotations["authorization.k8s.io/decision"] != "allow" ||
			!strings.HasPrefix(e.UserAgent, "kubectl") || len(e.SourceIPs) == 0 || e.SourceIPs[0] != "127.0.0.1" {
			t.Errorf("event %+v", *e)
		}
	}
	if create.ResponseStatus.Code != 201 || get.ResponseStatus.Code != 200 {
		t.Errorf("codes create %d get %d", create.ResponseStatus.Code, get.ResponseStatus.Code)
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("audit directory mode %v %v", fi, err)
	}
}

func TestAuditLogRequestLevel(t *testing.T) {
	dir := t.TempDir()
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Request
  resources: [{group: "", resources: [configmaps]}]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "logs", "audit.log")
	srv, _ := startOn(t, dir, func(c *server.Config) { c.Audit = server.AuditConfig{PolicyFile: policy, LogPath: logPath} })
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "with-body"}, Data: map[string]string{"color": "teal"}}
	if _, err := cs.CoreV1().ConfigMaps("default").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	events := readAudit(t, logPath, func(e audit.Event) bool { return e.Verb == "create" && e.ObjectRef.Name == "" })
	for _, e := range events {
		if e.ObjectRef == nil || e.ObjectRef.Resource != "configmaps" {
			t.Fatalf("policy only audits configmaps, got %+v", e)
		}
		if e.Verb == "create" {
			if e.Level != audit.LevelRequest || !strings.Contains(string(e.RequestObject), `"color":"teal"`) || e.ResponseObject != nil {
				t.Fatalf("create event %+v", e)
			}
			return
		}
	}
}
