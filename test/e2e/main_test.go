package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// env is what every test of the package shares: the built binary, a
// kubectl, and one running server.
type env struct {
	binary  string
	kubectl string
	home    string
	server  *serverProcess
}

// suite is set by TestMain; tests skip when it has no kubectl.
var suite env

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "skiff-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	suite.home = filepath.Join(tmp, "home")
	if err := os.MkdirAll(suite.home, 0o700); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if suite.kubectl, err = exec.LookPath("kubectl"); err != nil {
		suite.kubectl = ""
		return m.Run() // every test skips
	}
	suite.binary = filepath.Join(tmp, "skiff")
	build := exec.Command("go", "build", "-o", suite.binary, "./cmd/skiff")
	build.Dir = moduleRoot()
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building skiff: %v\n%s", err, out)
		return 1
	}
	suite.server, err = startServer(filepath.Join(tmp, "shared"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "starting the shared server: %v\n", err)
		return 1
	}
	code := m.Run()
	if err := suite.server.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stopping the shared server: %v\n%s", err, suite.server.logs())
		if code == 0 {
			code = 1
		}
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "--- shared server log (tail) ---\n%s\n", tail(suite.server.logs(), 40))
	}
	return code
}

// moduleRoot is the directory holding go.mod, two levels above this one.
func moduleRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

func needKubectl(t *testing.T) {
	t.Helper()
	if suite.kubectl == "" {
		t.Skip("kubectl is not on PATH: the end-to-end tests need the stock kubectl")
	}
}

// serverProcess is one `skiff server` subprocess.
type serverProcess struct {
	dataDir    string
	port       int
	kubeconfig string
	cmd        *exec.Cmd
	done       chan error

	mu  sync.Mutex
	log bytes.Buffer
}

func (p *serverProcess) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startServer runs `skiff server` on a free loopback port and returns once
// it reports ready.
func startServer(dataDir string) (*serverProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return startServerOn(dataDir, port)
}

func startServerOn(dataDir string, port int) (*serverProcess, error) {
	return startSkiff(dataDir, port, "is ready at", 60*time.Second, "server")
}

// startSkiff runs `skiff <command> --data-dir D --bind-address 127.0.0.1
// --secure-port P <extra...>` and returns once a log line contains ready.
func startSkiff(dataDir string, port int, ready string, timeout time.Duration, command string, extra ...string) (*serverProcess, error) {
	p := &serverProcess{dataDir: dataDir, port: port, kubeconfig: filepath.Join(dataDir, "kubeconfig"), done: make(chan error, 1)}
	args := append([]string{command, "--data-dir", dataDir, "--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port)}, extra...)
	p.cmd = exec.Command(suite.binary, args...)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	p.cmd.Stdout = p.cmd.Stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting skiff server: %w", err)
	}
	readyCh := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.log.WriteString(line + "\n")
			p.mu.Unlock()
			if strings.Contains(line, ready) {
				once.Do(func() { close(readyCh) })
			}
		}
		p.done <- p.cmd.Wait()
	}()
	select {
	case <-readyCh:
		return p, nil
	case err := <-p.done:
		return nil, fmt.Errorf("skiff %s exited before it was ready: %v\n%s", command, err, p.logs())
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		return nil, fmt.Errorf("skiff %s not ready after %s\n%s", command, timeout, p.logs())
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (p *serverProcess) stop() error {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case err := <-p.done:
		if err != nil {
			return fmt.Errorf("skiff server exited with %w after SIGTERM", err)
		}
		return nil
	case <-time.After(40 * time.Second):
		_ = p.cmd.Process.Kill()
		return errors.New("skiff server did not exit within 40s of SIGTERM")
	}
}

// kubectl runs kubectl against p and returns stdout, stderr and the error.
func (p *serverProcess) kubectl(stdin string, extraEnv []string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.kubectl, append([]string{"--kubeconfig", p.kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+suite.home, "KUBECONFIG=")
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// must runs kubectl and fails the test when it does not succeed.
func (p *serverProcess) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := p.kubectl("", nil, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// mustIn runs kubectl with stdin.
func (p *serverProcess) mustIn(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := p.kubectl(stdin, nil, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// wantContains fails unless every part is in s.
func wantContains(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s: missing %q in:\n%s", what, p, s)
		}
	}
}

// fields splits the first line of a table into its column names.
func header(table string) []string {
	first, _, _ := strings.Cut(table, "\n")
	return strings.Fields(first)
}
