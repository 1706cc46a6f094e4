package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/image"
	"github.com/skiffkube/skiff/internal/network"
	"github.com/skiffkube/skiff/internal/runtime/cri"
)

// Defaults and targets of the agent benchmark (issue 3).
const (
	DefaultAgentSequential = 50
	DefaultAgentConcurrent = 30
	DefaultAgentTimeout    = 2 * time.Minute
	agentPodCIDR           = "10.244.250.0/24"
	agentBridge            = "skiffbench0"
	agentNodeName          = "bench-agent"
	agentP50Target         = 500 * time.Millisecond
	agentP99Target         = time.Second
	agentRSSTarget         = 60e6
	cleanupTimeout         = time.Minute
)

// AgentConfig sets an agent benchmark run.
type AgentConfig struct {
	// ServerBinary is the skiff binary started as `<ServerBinary> server`;
	// "" means this process's executable.
	ServerBinary string
	// ImagesDir holds the image tarballs to import (image.BuildAll's
	// output); "" builds them into the work directory.
	ImagesDir string
	// Sequential pods are timed one at a time; Concurrent are created at
	// once.
	Sequential, Concurrent int
	// Timeout bounds each wait for pods to run or go.
	Timeout time.Duration
	// WorkDir holds the server's data, containerd and the logs; "" means
	// a new temporary directory, removed at the end.
	WorkDir string
	// Progress receives one line per phase; nil discards them.
	Progress io.Writer
}

// AgentResults are the figures of one RunAgent.
type AgentResults struct {
	Config AgentConfig
	// LoadBefore and LoadAfter are the machine's load averages.
	LoadBefore, LoadAfter string
	agent.BenchResult
}

func (c AgentConfig) withDefaults() (AgentConfig, error) {
	if c.ServerBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, fmt.Errorf("finding the skiff binary: %w", err)
		}
		c.ServerBinary = exe
	}
	if c.Sequential == 0 {
		c.Sequential = DefaultAgentSequential
	}
	if c.Concurrent == 0 {
		c.Concurrent = DefaultAgentConcurrent
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultAgentTimeout
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Sequential < 1 || c.Concurrent < 1 {
		return c, errors.New("sequential and concurrent pods must be positive")
	}
	return c, nil
}

// agentPrerequisites returns a one-line error unless the process is root
// and containerd, runc and the CNI bridge plugin are installed.
func agentPrerequisites(euid int, lookPath func(string) (string, error)) error {
	if euid != 0 {
		return fmt.Errorf("the agent benchmark runs containerd and containers: %w", ErrNeedsRoot)
	}
	for _, bin := range []string{"containerd", "runc"} {
		if _, err := lookPath(bin); err != nil {
			return fmt.Errorf("the agent benchmark needs %s (apt-get install containerd runc containernetworking-plugins): %w", bin, err)
		}
	}
	return nil
}

// RunAgent runs the agent benchmark against a real node: `skiff server`
// (scheduler off: the pods are bound by name) as a child
// process, and in this process containerd over CRI and the agent, which
// agent.Bench drives with busybox pods running `sleep 3600`. Every
// container is removed before it returns.
func RunAgent(ctx context.Context, cfg AgentConfig) (res *AgentResults, err error) {
	if cfg, err = cfg.withDefaults(); err != nil {
		return nil, err
	}
	if err := agentPrerequisites(os.Geteuid(), exec.LookPath); err != nil {
		return nil, err
	}
	dir, cleanup, err := workDir(cfg.WorkDir, "skiff-bench-agent-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	loadBefore := loadAverage()
	progress := &elapsedWriter{w: cfg.Progress, start: time.Now()}
	if cfg.ImagesDir == "" {
		cfg.ImagesDir = filepath.Join(dir, "images")
		fmt.Fprintf(progress, "building the images into %s\n", cfg.ImagesDir)
		if _, err := image.BuildAll(ctx, cfg.ImagesDir); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(progress, "starting %s server (scheduler off)\n", cfg.ServerBinary)
	srv, err := startServer(cfg.ServerBinary, dir, "--disable-scheduler")
	if err != nil {
		return nil, err
	}
	defer stopChild(srv, &err)
	if _, err = srv.waitReady(ctx); err != nil {
		return nil, err
	}
	rc, err := srv.restConfig()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(unlimitedProtobuf(rc))
	if err != nil {
		return nil, fmt.Errorf("agent client: %w", err)
	}
	// Pods get a service account token volume: wait for the controllers
	// to create the default ServiceAccount and the root CA ConfigMap.
	if err := waitPodPrerequisites(ctx, cs, metav1.NamespaceDefault); err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "starting containerd and importing %s\n", cfg.ImagesDir)
	node, stopNode, err := startBenchNode(ctx, dir, cfg.ImagesDir)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, stopNode()) }()
	fmt.Fprintf(progress, "running the agent: %d sequential pods, then %d at once\n", cfg.Sequential, cfg.Concurrent)
	r, err := agent.Bench(ctx, agent.BenchConfig{
		Agent: agent.Config{NodeName: agentNodeName, Client: cs, Runtime: node.Runtime,
			DataDir: filepath.Join(dir, "agent")},
		Image: image.BusyboxImage, Command: []string{"sleep", "3600"},
		Sequential: cfg.Sequential, Concurrent: cfg.Concurrent, Timeout: cfg.Timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("agent bench: %w", err)
	}
	return &AgentResults{Config: cfg, LoadBefore: loadBefore, LoadAfter: loadAverage(), BenchResult: r}, nil
}

// startBenchNode starts containerd under dir on a bridge of its own and
// returns the node and a function that removes every container, stops
// containerd and deletes the bridge.
func startBenchNode(ctx context.Context, dir, imagesDir string) (*cri.Node, func() error, error) {
	// containerd's socket path must fit in 107 bytes: a short directory.
	cdir, err := os.MkdirTemp("", "skiff-bench-cd-")
	if err != nil {
		return nil, nil, fmt.Errorf("containerd directory: %w", err)
	}
	nctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	node, err := cri.StartNode(nctx, cri.NodeOptions{Dir: cdir, ImagesDir: imagesDir, PodCIDR: agentPodCIDR,
		Network: network.BridgeOptions{Bridge: agentBridge, Name: "skiffbench"}})
	if err != nil {
		stop()
		_ = os.RemoveAll(cdir)
		return nil, nil, err
	}
	return node, func() error {
		cctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		var errs []error
		select {
		case <-node.Manager.Done():
			return fmt.Errorf("containerd exited during the bench (%v); its files are kept in %s", node.Manager.Err(), cdir)
		default:
		}
		if err := node.RemoveAll(cctx); err != nil {
			errs = append(errs, fmt.Errorf("removing the bench containers: %w", err))
		}
		node.Close()
		stop()
		<-node.Manager.Done()
		_ = exec.Command("ip", "link", "del", agentBridge).Run()
		if err := os.RemoveAll(cdir); err != nil {
			errs = append(errs, fmt.Errorf("removing %s: %w", cdir, err))
		}
		return errors.Join(errs...)
	}, nil
}

// workDir returns dir (created) or a new temporary directory, and a
// function that removes the temporary one.
func workDir(dir, pattern string) (string, func(), error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, fmt.Errorf("creating the work directory: %w", err)
		}
		return dir, func() {}, nil
	}
	dir, err := os.MkdirTemp("", pattern)
	if err != nil {
		return "", nil, fmt.Errorf("creating a work directory: %w", err)
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}

// Markdown renders the results with the targets.
func (r *AgentResults) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Load average before %s, after %s.\n\n", r.LoadBefore, r.LoadAfter)
	b.WriteString("| Measurement | Skiff | Target | Result |\n|---|---:|---:|:---:|\n")
	c := r.Config
	row := func(what, got, target string, ok bool) {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", what, got, target, passFail(ok))
	}
	row(fmt.Sprintf("Pod create→Running p50, %d sequential pods", c.Sequential), millis(r.P50), "≤ 500 ms", r.P50 <= agentP50Target)
	row(fmt.Sprintf("Pod create→Running p99, %d sequential pods", c.Sequential), millis(r.P99), "≤ 1 s", r.P99 <= agentP99Target)
	fmt.Fprintf(&b, "| %d pods created at once, first create → all Running | %s | – | – |\n", c.Concurrent, seconds(r.Concurrent))
	row(fmt.Sprintf("Agent RSS with %d pods running (bench process: agent + CRI client)", c.Concurrent), megabytes(r.RSSBytes), "≤ 60 MB", r.RSSBytes <= agentRSSTarget)
	return b.String()
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "**fail**"
}

// waitPodPrerequisites waits until namespace has the default
// ServiceAccount and the kube-root-ca.crt ConfigMap the controllers
// create, which every pod's token volume needs.
func waitPodPrerequisites(ctx context.Context, cs kubernetes.Interface, namespace string) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	exists := func(ev watch.Event) (bool, error) { return ev.Type == watch.Added || ev.Type == watch.Modified, nil }
	for _, w := range []struct {
		resource, name string
		obj            runtime.Object
	}{
		{"serviceaccounts", "default", &corev1.ServiceAccount{}},
		{"configmaps", "kube-root-ca.crt", &corev1.ConfigMap{}},
	} {
		lw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), w.resource, namespace,
			fields.OneTermEqualSelector("metadata.name", w.name))
		if _, err := watchtools.UntilWithSync(ctx, lw, w.obj, nil, exists); err != nil {
			return fmt.Errorf("waiting for %s %s/%s: %w", w.resource, namespace, w.name, err)
		}
	}
	return nil
}
