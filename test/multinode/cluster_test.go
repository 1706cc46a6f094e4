package multinode

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cluster is one server and its agents on a fabric.
type cluster struct {
	dir        string
	net        *fabric
	server     *proc
	url        string
	kubeconfig string
	agents     []*agentHost
}

// agentHost is one test host running `skiff agent`.
type agentHost struct {
	index   int
	name    string
	ip      string
	dataDir string
	proc    *proc
}

// startCluster starts a server and n agents, waits for every Node to be
// Ready, and registers their teardown with t.
func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	needHarness(t)
	dir, err := os.MkdirTemp("", "skmn-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{dir: dir}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("removing %s: %v", dir, err)
		}
	})
	if c.net, err = newFabric(n); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.net.teardown(); err != nil {
			t.Errorf("tearing the network down: %v", err)
		}
	})
	c.startServer(t)
	token := c.token(t)
	for i := 1; i <= n; i++ {
		c.startAgent(t, i, token)
	}
	c.ensurePodCIDRs(t)
	c.ensureKubeDNS(t)
	c.must(t, "wait", "--for=condition=Ready", "node", "--all", "--timeout=180s")
	if hold, err := time.ParseDuration(os.Getenv("SKIFF_MULTINODE_HOLD")); err == nil {
		// Registered last, so it runs first: the cluster stays up for
		// a look (KUBECONFIG=<dir>/server/kubeconfig) before teardown.
		t.Cleanup(func() {
			if !t.Failed() {
				return
			}
			release := filepath.Join(c.dir, "release")
			t.Logf("holding the cluster for %s (or until %s exists): kubeconfig %s", hold, release, c.kubeconfig)
			for end := time.Now().Add(hold); time.Now().Before(end); time.Sleep(time.Second) {
				if _, err := os.Stat(release); err == nil {
					return
				}
			}
		})
	}
	return c
}

// kubeDNSManifest is the Service `skiff server` creates at bootstrap.
const kubeDNSManifest = `apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  clusterIP: 10.96.0.10
  internalTrafficPolicy: Local
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: dns-tcp, port: 53, protocol: TCP}
`

// ensureKubeDNS creates the kube-dns Service if the server has not.
func (c *cluster) ensureKubeDNS(t *testing.T) {
	t.Helper()
	if _, _, err := c.kubectl("", "get", "service", "-n", "kube-system", "kube-dns"); err == nil {
		return
	}
	t.Log("the server made no kube-dns Service: creating it")
	c.apply(t, kubeDNSManifest)
}

func (c *cluster) startServer(t *testing.T) {
	t.Helper()
	port, err := freePort(rootIP)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(c.dir, "server")
	c.url = fmt.Sprintf("https://%s:%d", rootIP, port)
	c.kubeconfig = filepath.Join(dataDir, "kubeconfig")
	c.server, err = startProc("skiff server", "is ready at", 90*time.Second, suite.binary,
		"server", "--data-dir", dataDir, "--bind-address", rootIP, "--secure-port", fmt.Sprint(port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- skiff server log (tail) ---\n%s", tail(c.server.logs(), 80))
		}
		if err := c.server.stop(syscall.SIGTERM, 40*time.Second); err != nil {
			t.Errorf("stopping the server: %v", err)
		}
	})
}

// token creates a join token with the server's admin kubeconfig.
func (c *cluster) token(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(suite.binary, "token", "create", "--kubeconfig", c.kubeconfig).Output()
	if err != nil {
		t.Fatalf("skiff token create: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// startAgent runs `skiff agent` inside host i's network namespace (only
// the network namespace: mounts and cgroups stay the machine's).
func (c *cluster) startAgent(t *testing.T, i int, token string) {
	t.Helper()
	a := &agentHost{index: i, name: fmt.Sprintf("mn-%d", i), ip: hostIP(i), dataDir: filepath.Join(c.dir, fmt.Sprintf("n%d", i))}
	c.agents = append(c.agents, a)
	if err := linkImages(suite.imagesDir, filepath.Join(a.dataDir, "agent", "images")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() && a.proc != nil {
			t.Logf("--- agent %s log (tail) ---\n%s", a.name, tail(a.proc.logs(), 80))
		}
		if a.proc != nil {
			// Killed, not stopped: its containerd stays up to remove
			// the pod sandboxes properly.
			_ = a.proc.stop(syscall.SIGKILL, 10*time.Second)
		}
		if err := removeNodeState(a.dataDir); err != nil {
			t.Errorf("cleaning node %s: %v", a.name, err)
		}
	})
	var err error
	a.proc, err = startProc("skiff agent "+a.name, "node agent running", 3*time.Minute, "nsenter",
		"--net="+c.net.nsPath(i), "--", suite.binary, "agent", "--data-dir", a.dataDir,
		"--server", c.url, "--token", token, "--node-name", a.name, "--node-ip", a.ip)
	if err != nil {
		t.Fatal(err)
	}
}

// ensurePodCIDRs gives each Node a pod CIDR if the server's node IPAM did
// not within a few seconds (`skiff server` without --cluster-cidr).
func (c *cluster) ensurePodCIDRs(t *testing.T) {
	t.Helper()
	for _, a := range c.agents {
		var cidr string
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			out, _, err := c.kubectl("", "get", "node", a.name, "-o", "jsonpath={.spec.podCIDR}")
			if cidr = out; err == nil && cidr != "" {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if cidr != "" {
			continue
		}
		cidr = fmt.Sprintf("10.244.%d.0/24", a.index)
		t.Logf("node %s has no pod CIDR from the server: setting %s", a.name, cidr)
		c.must(t, "patch", "node", a.name, "--type=merge", "-p", fmt.Sprintf(`{"spec":{"podCIDR":%q,"podCIDRs":[%q]}}`, cidr, cidr))
	}
}

// kubectl runs kubectl with the admin kubeconfig.
func (c *cluster) kubectl(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, suite.kubectl, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+c.dir, "KUBECONFIG=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// must runs kubectl and fails the test unless it succeeds.
func (c *cluster) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := c.kubectl("", args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// apply applies a manifest.
func (c *cluster) apply(t *testing.T, manifest string) {
	t.Helper()
	if out, errOut, err := c.kubectl(manifest, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\n%s%s\n%s", err, out, errOut, manifest)
	}
}

// linkImages hard-links (or copies) the image tarballs into an agent's
// images directory: each agent imports them into its own containerd.
func linkImages(from, to string) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	tars, err := filepath.Glob(filepath.Join(from, "*.tar"))
	if err != nil || len(tars) == 0 {
		return fmt.Errorf("no image tarballs in %s (%v)", from, err)
	}
	for _, src := range tars {
		dst := filepath.Join(to, filepath.Base(src))
		if os.Link(src, dst) == nil {
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
