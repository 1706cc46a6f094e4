package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Timing of the child server's start and stop.
const (
	readyTimeout     = 2 * time.Minute
	readyPollPeriod  = 5 * time.Millisecond
	stopGracePeriod  = 30 * time.Second
	serverLogTailLen = 2000
)

// serverProcess is a `skiff server` (or other skiff) child process.
type serverProcess struct {
	cmd     *exec.Cmd
	dataDir string
	logPath string
	// url is the HTTPS address of its API (servers only).
	url string
	// started is when the process was started.
	started time.Time
	// exited is closed when the process has exited; waitErr is then set.
	exited  chan struct{}
	waitErr error
}

// apiServerFlags start the API server alone, as upstream's kube-apiserver
// reference is measured: the scheduler and controllers would add their own
// writes and caches to what is measured.
func apiServerFlags() []string {
	return []string{"--disable-scheduler", "--disable-controller-manager"}
}

// startServer starts `binary server` on a free loopback port with its data
// under dir and the given extra flags. The process's output goes to
// dir/server.log.
func startServer(binary, dir string, flags ...string) (*serverProcess, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"server", "--data-dir", filepath.Join(dir, "server"),
		"--bind-address", "127.0.0.1", "--secure-port", strconv.Itoa(port)}, flags...)
	p, err := startProcess(binary, filepath.Join(dir, "server.log"), args...)
	if err != nil {
		return nil, err
	}
	p.dataDir = filepath.Join(dir, "server")
	p.url = "https://127.0.0.1:" + strconv.Itoa(port)
	return p, nil
}

// startProcess starts `binary args...` with its output in logPath.
func startProcess(binary, logPath string, args ...string) (*serverProcess, error) {
	p := &serverProcess{logPath: logPath, exited: make(chan struct{})}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s: %w", logPath, err)
	}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s %s: %w", binary, args[0], err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// waitReady polls /readyz until it passes and returns the time from the
// process start to the first passing answer.
func (p *serverProcess) waitReady(ctx context.Context) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	caPath := filepath.Join(p.dataDir, "tls", "ca.crt")
	var client *http.Client
	tick := time.NewTicker(readyPollPeriod)
	defer tick.Stop()
	for {
		if client == nil {
			client = caClient(caPath) // nil until the server wrote its CA
		}
		if client != nil && p.readyzPasses(ctx, client) {
			return time.Since(p.started), nil
		}
		select {
		case <-tick.C:
		case <-p.exited:
			return 0, fmt.Errorf("server exited before it was ready (%v): %s", p.waitErr, p.logTail())
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for /readyz: %w: %s", ctx.Err(), p.logTail())
		}
	}
}

func (p *serverProcess) readyzPasses(ctx context.Context, client *http.Client) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/readyz", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// caClient returns an HTTPS client trusting the CA at path, or nil if the
// file is not (completely) written yet.
func caClient(path string) *http.Client {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil
	}
	return &http.Client{Timeout: time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

// restConfig loads the admin kubeconfig the server wrote, with client-side
// rate limiting off and JSON on the wire.
func (p *serverProcess) restConfig() (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", filepath.Join(p.dataDir, "kubeconfig"))
	if err != nil {
		return nil, fmt.Errorf("loading the server's kubeconfig: %w", err)
	}
	return unlimitedJSON(cfg), nil
}

// unlimitedJSON returns a copy of cfg without client-side rate limits,
// speaking JSON.
func unlimitedJSON(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.QPS = -1
	c.Burst = 0
	c.ContentType = "application/json"
	c.AcceptContentTypes = "application/json"
	c.UserAgent = "skiff-bench"
	return c
}

// unlimitedProtobuf returns a copy of cfg without client-side rate
// limits, speaking protobuf as upstream's own components do for built-in
// types.
func unlimitedProtobuf(cfg *rest.Config) *rest.Config {
	c := unlimitedJSON(cfg)
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return c
}

// clockTicks is the unit of the CPU times in /proc/<pid>/stat (USER_HZ,
// 100 on Linux).
const clockTicks = 100

// cpuTime returns the user and system CPU time the process has used.
func (p *serverProcess) cpuTime() (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("reading the server's CPU time: %w", err)
	}
	return parseCPUTime(string(data))
}

// parseCPUTime reads utime and stime from a /proc/<pid>/stat line.
func parseCPUTime(stat string) (time.Duration, error) {
	// The command name, in parentheses, may hold spaces: fields are
	// counted after its closing parenthesis (state is field 3).
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat line %q", stat)
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("malformed stat line %q", stat)
	}
	var ticks int64
	for _, s := range f[11:13] { // utime and stime: fields 14 and 15
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("malformed stat line %q: %w", stat, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// memory returns the current and peak resident set size of the process.
func (p *serverProcess) memory() (rss, peak int64, err error) {
	return readMemory(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
}

// stop sends SIGTERM, waits for the exit, and kills the process if it does
// not stop in time.
func (p *serverProcess) stop() error {
	select {
	case <-p.exited:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stopping the server: %w", err)
	}
	select {
	case <-p.exited:
		return nil
	case <-time.After(stopGracePeriod):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("server did not stop within %v and was killed", stopGracePeriod)
	}
}

// logTail is the end of the server's log, for error messages.
func (p *serverProcess) logTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return "(no server log)"
	}
	if len(b) > serverLogTailLen {
		b = b[len(b)-serverLogTailLen:]
	}
	return string(b)
}

// readMemory parses VmRSS and VmHWM (in bytes) from a /proc status file.
func readMemory(path string) (rss, peak int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("reading memory: %w", err)
	}
	defer f.Close()
	return parseMemory(bufio.NewScanner(f))
}

// parseMemory reads VmRSS and VmHWM from the lines of a /proc status file.
func parseMemory(sc *bufio.Scanner) (rss, peak int64, err error) {
	found := 0
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM") {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0, 0, fmt.Errorf("reading memory: unexpected %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("reading memory: %s: %w", key, err)
		}
		if key == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
		found++
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("reading memory: %w", err)
	}
	if found != 2 {
		return 0, 0, errors.New("reading memory: no VmRSS and VmHWM lines")
	}
	return rss, peak, nil
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
