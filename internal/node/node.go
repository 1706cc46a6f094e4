package node

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/agent"
	agentserver "github.com/skiffkube/skiff/internal/agent/server"
	"github.com/skiffkube/skiff/internal/agent/stats"
	"github.com/skiffkube/skiff/internal/dns"
	"github.com/skiffkube/skiff/internal/network"
	"github.com/skiffkube/skiff/internal/proxy"
	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/cri"
)

// Config configures a node.
type Config struct {
	// DataDir holds the node's files: containerd/, images/ (tarballs
	// imported at start), pods/, logs/.
	DataDir string
	// NodeName names the Node; "" is the host name.
	NodeName string
	// NodeIP is the node's InternalIP; "" picks the first non-loopback
	// IPv4 address.
	NodeIP string
	// Client reaches the API server with the node's credentials.
	Client *rest.Config
	// ContainerRuntimeEndpoint is an existing CRI socket to use instead
	// of starting containerd ("unix:///run/containerd/containerd.sock").
	ContainerRuntimeEndpoint string
	// ClusterDNS and ClusterDomain are what pods' resolv.conf points at.
	ClusterDNS    []string
	ClusterDomain string
	// DNSListen is where the node's cluster DNS serves (UDP and TCP);
	// "" runs no DNS. Pods reach it when ClusterDNS names this address.
	DNSListen string
	// ProxyMode is the service proxy's mode: auto, nftables, iptables;
	// "none" runs no proxy. ClusterCIDR is the pod network, for masquerading.
	ProxyMode   string
	ClusterCIDR string
	// ManifestURL is polled for static pod manifests, besides the
	// directory <DataDir>/manifests.
	ManifestURL string
	// EvictionHard are the node-pressure thresholds
	// ("memory.available<100Mi,nodefs.available<10%"); "" uses upstream's
	// defaults.
	EvictionHard string
	// AgentPort is where the agent's HTTPS endpoint (logs, exec,
	// port-forward for the API server) listens on the node IP (10250).
	AgentPort int
	// Version is the agent version the Node reports (status.nodeInfo.kubeletVersion).
	Version string
	// Labels and Taints are the Node's at registration.
	Labels map[string]string
	Taints []corev1.Taint
	// Logger receives the node's logs.
	Logger *slog.Logger
}

// ImagesDir is where a node's image tarballs wait to be imported.
func ImagesDir(dataDir string) string { return filepath.Join(dataDir, "images") }

// ContainerdDir is where a node's own containerd keeps its files (and
// its socket, containerd.sock).
func ContainerdDir(dataDir string) string { return filepath.Join(dataDir, "containerd") }

// Run runs the node until ctx ends: containerd, the agent, and the CNI
// configuration following the Node's pod CIDR. started (if not nil) is
// called once the agent runs.
func Run(ctx context.Context, cfg Config, started func(nodeName string)) error {
	if cfg.DataDir == "" || cfg.Client == nil {
		return errors.New("node: a data directory and an API client are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return fmt.Errorf("node data directory: %w", err)
	}
	if cfg.NodeName == "" {
		cfg.NodeName = DefaultName()
	}
	if cfg.NodeIP == "" {
		cfg.NodeIP = DefaultIP()
	}
	capacity, err := Capacity(cfg.DataDir)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg.Client)
	if err != nil {
		return fmt.Errorf("node client: %w", err)
	}
	// The runtime outlives the components below; an owned containerd
	// stops when runCtx ends, and wait returns once it has exited.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	rt, setPodCIDR, wait, err := startRuntime(runCtx, cfg)
	if err != nil {
		return err
	}
	defer func() { cancel(); wait() }()
	if cfg.AgentPort == 0 {
		cfg.AgentPort = 10250
	}
	endpoint, err := newAgentEndpoint(cfg, rt, client)
	if err != nil {
		return err
	}
	thresholds, err := evictionThresholds(cfg.EvictionHard)
	if err != nil {
		return err
	}
	manifests := filepath.Join(cfg.DataDir, "manifests")
	if err := os.MkdirAll(manifests, 0o755); err != nil {
		return fmt.Errorf("static pod directory: %w", err)
	}
	a, err := agent.New(agent.Config{
		ManifestDir: manifests, ManifestURL: cfg.ManifestURL, EvictionHard: thresholds,
		Stats:    agent.NewHostStats(cfg.DataDir, ContainerdDir(cfg.DataDir)),
		NodeName: cfg.NodeName, Client: client, Runtime: rt, Capacity: capacity, NodeIP: cfg.NodeIP, KubeletPort: int32(cfg.AgentPort),
		NodeInfo: SystemInfo(cfg.Version), Labels: cfg.Labels, Taints: cfg.Taints, DataDir: cfg.DataDir, ClusterDNS: cfg.ClusterDNS, ClusterDomain: cfg.ClusterDomain,
		Logger: cfg.Logger.With("component", "agent"),
	})
	if err != nil {
		return err
	}
	services, err := serviceComponents(client, cfg)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(runCtx)
	g.Go(func() error { followPodCIDR(gctx, client, cfg.NodeName, setPodCIDR, cfg.Logger); return nil })
	g.Go(func() error {
		followPodRoutes(gctx, client, cfg.NodeName, network.NetlinkRoutes{}, cfg.Logger.With("component", "routes"))
		return nil
	})
	if cfg.DNSListen != "" {
		slice, err := dnsEndpointSlice(cfg.NodeName, cfg.DNSListen)
		if err != nil {
			return err
		}
		g.Go(func() error {
			publishDNSEndpoints(gctx, client, slice, cfg.Logger.With("component", "dns"))
			return nil
		})
	}
	for _, run := range services {
		g.Go(func() error { return run(gctx) })
	}
	g.Go(func() error { return a.Run(gctx) })
	g.Go(func() error { return endpoint(gctx) })
	if started != nil {
		started(cfg.NodeName)
	}
	return g.Wait()
}

// evictionThresholds parses --eviction-hard; "" keeps the defaults (nil).
func evictionThresholds(spec string) ([]agent.Threshold, error) {
	if spec == "" {
		return nil, nil
	}
	t, err := agent.ParseEvictionHard(spec)
	if err != nil {
		return nil, fmt.Errorf("--eviction-hard: %w", err)
	}
	return t, nil
}

// newAgentEndpoint listens on the agent's HTTPS port and returns the
// function serving it until its context ends. The API server reaches it
// with a client certificate of the cluster CA; the serving certificate is
// self-signed, as upstream's kubelet does by default. Requests are
// authorized by the API server (SubjectAccessReviews the node's client
// creates), as upstream's kubelet in Webhook mode.
func newAgentEndpoint(cfg Config, rt runtime.Runtime, client kubernetes.Interface) (func(context.Context) error, error) {
	cas := x509.NewCertPool()
	ca := cfg.Client.TLSClientConfig.CAData
	if len(ca) == 0 && cfg.Client.TLSClientConfig.CAFile != "" {
		var err error
		if ca, err = os.ReadFile(cfg.Client.TLSClientConfig.CAFile); err != nil {
			return nil, fmt.Errorf("cluster CA: %w", err)
		}
	}
	if !cas.AppendCertsFromPEM(ca) {
		return nil, errors.New("agent endpoint: the API client config has no cluster CA")
	}
	cert, err := agentserver.SelfSignedCertificate([]string{cfg.NodeIP, cfg.NodeName}, time.Now())
	if err != nil {
		return nil, err
	}
	streamer, _ := rt.(agentserver.Streamer)
	collector, err := stats.New(stats.Config{NodeName: cfg.NodeName, Runtime: rt,
		Host: agent.NewHostStats(cfg.DataDir, ContainerdDir(cfg.DataDir)), Logger: cfg.Logger.With("component", "stats")})
	if err != nil {
		return nil, err
	}
	authz, err := agentserver.NewSARAuthorizer(agentserver.SARConfig{Reviews: client.AuthorizationV1().SubjectAccessReviews()})
	if err != nil {
		return nil, err
	}
	srv, err := agentserver.New(agentserver.Config{
		Pods:     agentserver.RuntimePods{Runtime: rt, DataDir: cfg.DataDir},
		Streamer: streamer, Stats: collector, Certificate: cert, ClientCAs: cas, Logger: cfg.Logger.With("component", "agent-endpoint"),
		NodeName: cfg.NodeName, Authorizer: authz,
	})
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", net.JoinHostPort(cfg.NodeIP, strconv.Itoa(cfg.AgentPort)))
	if err != nil {
		return nil, fmt.Errorf("agent endpoint: %w", err)
	}
	return func(ctx context.Context) error {
		// The collector samples in the background so that CPU rates are
		// ready when the API server asks.
		sctx, stop := context.WithCancel(ctx)
		sampled := make(chan struct{})
		go func() { defer close(sampled); collector.Run(sctx) }()
		defer func() { stop(); <-sampled }()
		return srv.Serve(ctx, l)
	}, nil
}

// serviceComponents builds the node's service proxy and cluster DNS, as
// configured.
func serviceComponents(client kubernetes.Interface, cfg Config) ([]func(context.Context) error, error) {
	var out []func(context.Context) error
	if cfg.ProxyMode != "none" {
		p, err := proxy.New(proxy.Config{
			Client: client, NodeName: cfg.NodeName, NodeIPs: []net.IP{net.ParseIP(cfg.NodeIP)}, ClusterCIDR: cfg.ClusterCIDR,
			Mode: proxy.Mode(cfg.ProxyMode), ManageSysctls: true, Logger: cfg.Logger.With("component", "proxy"),
		})
		if err != nil {
			return nil, fmt.Errorf("service proxy: %w", err)
		}
		out = append(out, p.Run)
	}
	if cfg.DNSListen != "" {
		d, err := dns.New(dns.Config{Client: client, ListenAddr: cfg.DNSListen, Domain: cfg.ClusterDomain, Logger: cfg.Logger.With("component", "dns")})
		if err != nil {
			return nil, fmt.Errorf("cluster DNS: %w", err)
		}
		out = append(out, d.Run)
	}
	return out, nil
}

// startRuntime connects to the configured CRI endpoint, or starts the
// node's own containerd and imports its images. setPodCIDR writes the CNI
// configuration (a no-op for an external runtime, which has its own);
// wait blocks until an owned containerd has exited after ctx ends.
func startRuntime(ctx context.Context, cfg Config) (rt runtime.Runtime, setPodCIDR func(string) error, wait func(), err error) {
	if cfg.ContainerRuntimeEndpoint != "" {
		r, err := cri.New(ctx, cfg.ContainerRuntimeEndpoint)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("container runtime %s: %w", cfg.ContainerRuntimeEndpoint, err)
		}
		return r, func(string) error { return nil }, func() { r.Close() }, nil
	}
	images := ImagesDir(cfg.DataDir)
	if err := os.MkdirAll(images, 0o755); err != nil {
		return nil, nil, nil, fmt.Errorf("images directory: %w", err)
	}
	if tars, _ := filepath.Glob(filepath.Join(images, "*.tar")); len(tars) == 0 {
		cfg.Logger.Warn("no image tarballs to import: pods cannot start without the pause image (run `make images` or `skiff image import`)", "dir", images)
	}
	bridge, err := podMasquerade(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	start := time.Now()
	n, err := cri.StartNode(ctx, cri.NodeOptions{Dir: ContainerdDir(cfg.DataDir), ImagesDir: images, Network: bridge})
	if err != nil {
		return nil, nil, nil, err
	}
	cfg.Logger.Info("containerd started", "socket", n.Manager.Socket(), "snapshotter", n.Manager.Snapshotter(), "took", time.Since(start).Round(time.Millisecond))
	return n, n.SetPodCIDR, func() { n.Close(); <-n.Manager.Done() }, nil
}

// podMasquerade returns the CNI bridge options of an owned containerd:
// host-local allocations kept under the data directory (nodes sharing a
// machine must not share them) and, when the cluster CIDR is known, the
// node's own masquerading of traffic leaving it instead of the bridge
// plugin's, which would hide pod addresses from other nodes' pods too.
func podMasquerade(cfg Config) (network.BridgeOptions, error) {
	// host-local keeps its allocations in the machine-wide default
	// directory: nodes and test clusters sharing the root network
	// namespace (and its bridge) must never hand out the same address,
	// nor one a leftover pod network namespace still holds.
	opts := network.BridgeOptions{}
	cidrs, err := network.ParseCIDRs(cfg.ClusterCIDR)
	if err != nil {
		return opts, fmt.Errorf("cluster CIDR: %w", err)
	}
	if len(cidrs) == 0 {
		return opts, nil
	}
	if err := network.EnsureMasquerade(cidrs); err != nil {
		return opts, err
	}
	opts.NoIPMasq = true
	return opts, nil
}

// followPodCIDR writes the CNI configuration whenever the Node's pod CIDR
// is set or changes, until ctx ends.
func followPodCIDR(ctx context.Context, client kubernetes.Interface, name string, set func(string) error, logger *slog.Logger) {
	lw := cache.NewListWatchFromClient(client.CoreV1().RESTClient(), "nodes", metav1.NamespaceAll, fields.OneTermEqualSelector("metadata.name", name))
	current := ""
	handle := func(obj any) {
		n, ok := obj.(*corev1.Node)
		if !ok || n.Spec.PodCIDR == "" || n.Spec.PodCIDR == current {
			return
		}
		if err := set(n.Spec.PodCIDR); err != nil {
			logger.Error("writing the CNI configuration", "podCIDR", n.Spec.PodCIDR, "err", err)
			return
		}
		current = n.Spec.PodCIDR
		logger.Info("pod network configured", "podCIDR", current)
	}
	_, ctrl := cache.NewInformerWithOptions(cache.InformerOptions{
		ListerWatcher: lw,
		ObjectType:    &corev1.Node{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    handle,
			UpdateFunc: func(_, obj any) { handle(obj) },
		},
	})
	ctrl.RunWithContext(ctx)
}

// DefaultName is the host name in lower case ("localhost" if unknown).
func DefaultName() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		return "localhost"
	}
	return strings.ToLower(host)
}

// DefaultIP is the first global unicast IPv4 address, else loopback.
func DefaultIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && n.IP.IsGlobalUnicast() {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
