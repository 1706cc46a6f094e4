package server_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/util/httpstream"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	utilexec "k8s.io/client-go/util/exec"
)

var lineRE = regexp.MustCompile(`^line \d+$`)

func testLogs(t *testing.T, ctx context.Context, c *cluster, pod *corev1.Pod) {
	// Enough lines for a tail of 3.
	time.Sleep(500 * time.Millisecond)
	tail := int64(3)
	data, err := c.cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "logger", TailLines: &tail}).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("tail 3 gave %d lines: %q", len(lines), data)
	}
	for _, l := range lines {
		if !lineRE.MatchString(l) && !strings.HasPrefix(l, "err ") {
			t.Errorf("unexpected line %q", l)
		}
	}

	// Timestamps and a byte limit.
	limit := int64(10)
	data, err = c.cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "logger", Timestamps: true, LimitBytes: &limit}).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 10 || !strings.HasPrefix(string(data), time.Now().UTC().Format("2006-")) {
		t.Errorf("timestamps with limit 10: %q", data)
	}

	// Following: new lines keep coming until the client stops.
	zero := int64(0)
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rc, err := c.cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: "logger", Follow: true, TailLines: &zero}).Stream(fctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	seen := 0
	for seen < 5 && sc.Scan() {
		if lineRE.MatchString(sc.Text()) {
			seen++
		}
	}
	if seen < 5 {
		t.Fatalf("followed %d lines: %v", seen, sc.Err())
	}
}

func testLogErrors(t *testing.T, ctx context.Context, c *cluster, pod *corev1.Pod) {
	pods := c.cs.CoreV1().Pods(pod.Namespace)
	tests := []struct {
		opts corev1.PodLogOptions
		want string
	}{
		{corev1.PodLogOptions{Container: "nope"}, "container nope is not valid for pod streams"},
		{corev1.PodLogOptions{}, "a container name must be specified for pod streams, choose one of: [web logger]"},
		{corev1.PodLogOptions{Container: "web", Previous: true}, `previous terminated container "web" in pod "streams" not found`},
	}
	for _, tt := range tests {
		err := pods.GetLogs(pod.Name, &tt.opts).Do(ctx).Error()
		if !apierrors.IsBadRequest(err) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: got %v, want 400 %q", tt.opts, err, tt.want)
		}
	}
}

// executor makes an exec executor over SPDY or WebSocket.
func executor(t *testing.T, c *cluster, pod *corev1.Pod, container string, cmd []string, stdin, websocket bool) remotecommand.Executor {
	t.Helper()
	req := c.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{Container: container, Command: cmd, Stdin: stdin, Stdout: true, Stderr: true}, scheme.ParameterCodec)
	var ex remotecommand.Executor
	var err error
	if websocket {
		ex, err = remotecommand.NewWebSocketExecutor(c.srv.AdminConfig(), "GET", req.URL().String())
	} else {
		ex, err = remotecommand.NewSPDYExecutor(c.srv.AdminConfig(), "POST", req.URL())
	}
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func testExec(t *testing.T, ctx context.Context, c *cluster, pod *corev1.Pod, websocket bool) {
	// Output on both streams and the exit code.
	var stdout, stderr bytes.Buffer
	ex := executor(t, c, pod, "web", []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, false, websocket)
	err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &stdout, Stderr: &stderr})
	var exitErr utilexec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 3 {
		t.Errorf("exit: got %v, want exit code 3", err)
	}
	if stdout.String() != "out\n" || stderr.String() != "err\n" {
		t.Errorf("stdout %q stderr %q", stdout.String(), stderr.String())
	}

	// Standard input reaches the command and its end ends the command.
	stdout.Reset()
	stderr.Reset()
	ex = executor(t, c, pod, "web", []string{"sh", "-c", "tr a-z A-Z"}, true, websocket)
	err = ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("hello\n"), Stdout: &stdout, Stderr: &stderr})
	if err != nil || stdout.String() != "HELLO\n" {
		t.Errorf("stdin: got %q, %v (stderr %q)", stdout.String(), err, stderr.String())
	}
}

// lineWriter cancels its context once a whole "line N" arrives.
type lineWriter struct {
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for _, l := range strings.Split(w.buf.String(), "\n") {
		if lineRE.MatchString(l) {
			w.cancel()
		}
	}
	return len(p), nil
}

func testAttach(t *testing.T, ctx context.Context, c *cluster, pod *corev1.Pod, websocket bool) {
	req := c.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("attach").
		VersionedParams(&corev1.PodAttachOptions{Container: "logger", Stdout: true, Stderr: true}, scheme.ParameterCodec)
	var ex remotecommand.Executor
	var err error
	if websocket {
		ex, err = remotecommand.NewWebSocketExecutor(c.srv.AdminConfig(), "GET", req.URL().String())
	} else {
		ex, err = remotecommand.NewSPDYExecutor(c.srv.AdminConfig(), "POST", req.URL())
	}
	if err != nil {
		t.Fatal(err)
	}
	actx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out := &lineWriter{cancel: cancel}
	err = ex.StreamWithContext(actx, remotecommand.StreamOptions{Stdout: out, Stderr: io.Discard})
	if !errors.Is(err, context.Canceled) || !strings.Contains(out.buf.String(), "line ") {
		t.Errorf("attach: %v, output %q", err, out.buf.String())
	}
}

func testPortForward(t *testing.T, ctx context.Context, c *cluster, pod *corev1.Pod) {
	u := c.cs.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("portforward").URL()
	cfg := c.srv.AdminConfig()
	transport, upgrader, err := spdy.RoundTripperFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	spdyDialer := spdy.NewDialer(upgrader, &http.Client{Transport: transport}, "POST", u)
	wsDialer, err := portforward.NewSPDYOverWebsocketDialer(u, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkForward(t, ctx, "SPDY", spdyDialer)
	checkForward(t, ctx, "WebSocket", wsDialer)
}

func testNodeProxy(t *testing.T, ctx context.Context, c *cluster) {
	data, err := c.cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", nodeName, "proxy", "healthz").DoRaw(ctx)
	if err != nil || string(data) != "ok" {
		t.Errorf("node proxy healthz: %q, %v", data, err)
	}
	data, err = c.cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", nodeName, "proxy", "containerLogs", "default", "streams", "logger").
		Param("tailLines", "1").DoRaw(ctx)
	if err != nil || !lineRE.MatchString(strings.TrimSpace(string(data))) && !strings.HasPrefix(string(data), "err ") {
		t.Errorf("node proxy containerLogs: %q, %v", data, err)
	}
}

func testKubectl(t *testing.T, ctx context.Context, c *cluster, pod *corev1.Pod) {
	out, err := c.kubectl(ctx, "", "logs", pod.Name, "-c", "logger", "--tail=2")
	if err != nil || len(strings.Split(strings.TrimSpace(out), "\n")) != 2 {
		t.Errorf("kubectl logs --tail=2: %q, %v", out, err)
	}
	out, err = c.kubectl(ctx, "", "logs", pod.Name, "-c", "logger", "--since=1s", "--timestamps")
	if err != nil || out == "" {
		t.Errorf("kubectl logs --since: %q, %v", out, err)
	}
	out, err = c.kubectl(ctx, "", "logs", pod.Name, "-c", "web", "--previous")
	if err == nil || !strings.Contains(out, "previous terminated container") {
		t.Errorf("kubectl logs --previous: %q, %v", out, err)
	}
	out, err = c.kubectl(ctx, "", "exec", pod.Name, "-c", "web", "--", "cat", "/etc/hostname")
	if err != nil || strings.TrimSpace(out) != pod.Name {
		t.Errorf("kubectl exec: %q, %v", out, err)
	}
	out, err = c.kubectl(ctx, "piped\n", "exec", "-i", pod.Name, "-c", "web", "--", "cat")
	if err != nil || out != "piped\n" {
		t.Errorf("kubectl exec -i: %q, %v", out, err)
	}
	out, err = c.kubectl(ctx, "", "exec", pod.Name, "-c", "web", "--", "sh", "-c", "exit 7")
	if err == nil || !strings.Contains(out, "command terminated with exit code 7") {
		t.Errorf("kubectl exec exit 7: %q, %v", out, err)
	}
	// kubectl cp both ways (tar over exec).
	src := tempFile(t, "in.txt", "copied content\n")
	if out, err = c.kubectl(ctx, "", "cp", src, pod.Name+":/tmp/in.txt", "-c", "web"); err != nil {
		t.Errorf("kubectl cp to the pod: %q, %v", out, err)
	}
	dst := filepath.Join(t.TempDir(), "out.txt")
	if out, err = c.kubectl(ctx, "", "cp", pod.Name+":/tmp/in.txt", dst, "-c", "web"); err != nil {
		t.Errorf("kubectl cp from the pod: %q, %v", out, err)
	} else if got, _ := os.ReadFile(dst); string(got) != "copied content\n" {
		t.Errorf("kubectl cp round trip: %q", got)
	}
	kubectlPortForward(t, ctx, c, pod)
}

// kubectlPortForward runs kubectl port-forward and fetches /hostname
// through it.
func kubectlPortForward(t *testing.T, ctx context.Context, c *cluster, pod *corev1.Pod) {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(pctx, "kubectl", "--kubeconfig", c.srv.KubeconfigPath, "port-forward", "pod/"+pod.Name, ":8080")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	// "Forwarding from 127.0.0.1:NNNN -> 8080"
	re := regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> 8080`)
	sc := bufio.NewScanner(stdout)
	port := ""
	for port == "" && sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			port = m[1]
		}
	}
	if port == "" {
		t.Fatalf("kubectl port-forward printed no port (stderr %q)", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	for i := 0; i < 2; i++ {
		body, err := httpGet(ctx, "http://127.0.0.1:"+port+"/hostname")
		if err != nil || strings.TrimSpace(body) != pod.Name {
			t.Errorf("GET through kubectl port-forward: %q, %v (stderr %q)", body, err, stderr.String())
		}
	}
}

func httpGet(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %s", resp.Status)
	}
	return string(b), err
}

// checkForward forwards a local port to the pod's 8080 over dialer and
// fetches /hostname through it.
func checkForward(t *testing.T, ctx context.Context, name string, dialer httpstream.Dialer) {
	stop, ready := make(chan struct{}), make(chan struct{})
	var out, errOut bytes.Buffer
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:8080"}, stop, ready, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- fw.ForwardPorts() }()
	defer func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("%s: forward: %v", name, err)
		}
	}()
	select {
	case <-ready:
	case err := <-done:
		done <- err
		t.Fatalf("%s: port-forward failed: %v (%s)", name, err, errOut.String())
	case <-ctx.Done():
		t.Fatalf("%s: port-forward not ready", name)
	}
	ports, err := fw.GetPorts()
	if err != nil || len(ports) != 1 {
		t.Fatalf("%s: ports %v, %v", name, ports, err)
	}
	for i := 0; i < 3; i++ {
		body, err := httpGet(ctx, fmt.Sprintf("http://127.0.0.1:%d/hostname", ports[0].Local))
		if err != nil || strings.TrimSpace(body) != "streams" {
			t.Errorf("%s: GET /hostname: %q, %v (%s)", name, body, err, errOut.String())
		}
	}
}
