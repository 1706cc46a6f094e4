package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/skiffkube/skiff/internal/auth/join"
	"github.com/skiffkube/skiff/internal/network"
	"github.com/skiffkube/skiff/internal/node"
	"github.com/skiffkube/skiff/internal/proxy"
	"github.com/skiffkube/skiff/internal/server"
)

// agentFlags are the flags of the node half, shared by `skiff agent` and
// `skiff up`.
type agentFlags struct {
	cfg        node.Config
	noDNS      bool
	dnsPort    int
	clusterDNS string
}

func (f *agentFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.cfg.NodeName, "node-name", "", "name of the Node (default: the host name)")
	fs.StringVar(&f.cfg.NodeIP, "node-ip", "", "the node's InternalIP (default: the first non-loopback IPv4 address)")
	fs.StringVar(&f.cfg.ContainerRuntimeEndpoint, "container-runtime-endpoint", "", "use this CRI socket instead of starting containerd (unix:///run/containerd/containerd.sock)")
	fs.StringVar(&f.cfg.ProxyMode, "proxy-mode", "auto", "service proxy mode: auto, nftables, iptables or none")
	fs.StringVar(&f.cfg.ClusterCIDR, "cluster-cidr", "10.244.0.0/16", "the pod network (node pod CIDRs are cut from it)")
	fs.StringVar(&f.cfg.ClusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	fs.IntVar(&f.cfg.AgentPort, "agent-port", 10250, "port of the agent's HTTPS endpoint, which the API server uses for logs, exec and port-forward")
	fs.StringVar(&f.cfg.ManifestURL, "manifest-url", "", "URL polled for static pod manifests (besides <data-dir>/agent/manifests)")
	fs.StringVar(&f.cfg.EvictionHard, "eviction-hard", "", "node-pressure eviction thresholds, e.g. memory.available<100Mi,nodefs.available<10% (default: upstream's)")
	fs.BoolVar(&f.noDNS, "disable-dns", false, "do not serve cluster DNS on this node")
	fs.IntVar(&f.dnsPort, "dns-port", 53, "port of the node's cluster DNS (on the node IP)")
	fs.StringVar(&f.clusterDNS, "cluster-dns", "10.96.0.10", "the pods' DNS server: the kube-dns Service's cluster IP (the 10th address of the service CIDR); \"\" points pods at the node's own DNS when it listens on port 53")
}

// nodeConfig fills the node config derived from the flags: data
// directory, DNS address, and the pods' DNS server.
func (f *agentFlags) nodeConfig(dataDir string) node.Config {
	cfg := f.cfg
	cfg.DataDir = filepath.Join(dataDir, "agent")
	cfg.Version = server.Version().GitVersion
	if cfg.NodeIP == "" {
		cfg.NodeIP = node.DefaultIP()
	}
	if !f.noDNS {
		cfg.DNSListen = fmt.Sprintf("%s:%d", cfg.NodeIP, f.dnsPort)
		switch {
		case f.clusterDNS != "":
			cfg.ClusterDNS = []string{f.clusterDNS}
		case f.dnsPort == 53:
			cfg.ClusterDNS = []string{cfg.NodeIP}
		}
	}
	return cfg
}

func newAgentCommand(stderr io.Writer) *cobra.Command {
	var (
		f          agentFlags
		dataDir    string
		serverURL  string
		token      string
		caFile     string
		kubeconfig string
		verbose    bool
		cleanup    bool
	)
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a node: containerd, the node agent, the service proxy and DNS, joined to a server",
		Long: "Run a node agent joined to a Skiff server. Join with --server URL --token T " +
			"(from `skiff token create` on the server); the agent obtains its own client certificate " +
			"and keeps it under the data directory. Or give a kubeconfig with --kubeconfig.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := newLogger(stderr, verbose)
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if cleanup {
				return cleanupNode(ctx, stderr)
			}
			cfg := f.nodeConfig(dataDir)
			if cfg.NodeName == "" {
				cfg.NodeName = node.DefaultName()
			}
			rc, err := agentCredentials(ctx, credentialOptions{
				dir: credentialsDir(dataDir), server: serverURL, token: token,
				caFile: caFile, kubeconfig: kubeconfig, nodeName: cfg.NodeName,
			})
			if err != nil {
				return err
			}
			cfg.Client, cfg.Logger = rc, logger
			var renewal sync.WaitGroup
			if kubeconfig == "" {
				renewal.Go(func() {
					keepNodeCertificate(ctx, credentialPaths(credentialsDir(dataDir)), serverURL, cfg.NodeName, nodeCertificateCheck, logger)
				})
			}
			start := time.Now()
			err = node.Run(ctx, cfg, func(name string) {
				logger.Info("node agent running", "node", name, "took", time.Since(start).Round(time.Millisecond))
			})
			stop()
			renewal.Wait()
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&dataDir, "data-dir", defaultDataDir(), "directory for the node's containerd, images, pods and credentials (under <data-dir>/agent)")
	fs.StringVar(&serverURL, "server", "", "URL of the Skiff API server to join (https://host:6443)")
	fs.StringVar(&token, "token", "", "join token from `skiff token create`")
	fs.StringVar(&caFile, "ca-file", "", "cluster CA certificate, needed with a bare <id>.<secret> token")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "use this kubeconfig instead of joining with a token")
	fs.BoolVarP(&verbose, "verbose", "v", false, "debug logging")
	fs.BoolVar(&cleanup, "cleanup", false, "remove what an agent put in the kernel (service proxy rules, routes to other nodes' pods, masquerading) and exit")
	f.register(cmd)
	return cmd
}

// cleanupNode removes the service proxy's rules (nftables and iptables),
// the routes to other nodes' pods and the masquerading table.
func cleanupNode(ctx context.Context, stderr io.Writer) error {
	if err := errors.Join(proxy.Cleanup(ctx, proxy.ModeAuto), network.Cleanup()); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	fmt.Fprintln(stderr, "removed the service proxy rules, pod routes and masquerading of this node")
	return nil
}

// credentialsDir is where a joined agent keeps its credentials.
func credentialsDir(dataDir string) string { return filepath.Join(dataDir, "agent", "credentials") }

// credentialOptions say how an agent reaches the API server.
type credentialOptions struct {
	dir, server, token, caFile, kubeconfig, nodeName string
}

// agentCredentials returns the agent's client config: from a kubeconfig,
// from credentials saved by an earlier join, or by joining with a token.
func agentCredentials(ctx context.Context, o credentialOptions) (*rest.Config, error) {
	if o.kubeconfig != "" {
		rc, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", o.kubeconfig, err)
		}
		return rc, nil
	}
	if o.server == "" {
		return nil, errors.New("give --server and --token to join a server, or --kubeconfig")
	}
	files := credentialPaths(o.dir)
	if _, err := readCredentials(files); err == nil {
		return files.restConfig(o.server), nil
	}
	if o.token == "" {
		return nil, fmt.Errorf("no saved credentials in %s: give --token to join", o.dir)
	}
	var ca []byte
	if o.caFile != "" {
		var err error
		if ca, err = os.ReadFile(o.caFile); err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
	}
	creds, err := join.RequestNodeCredentials(ctx, o.server, o.token, o.nodeName, ca)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return nil, fmt.Errorf("credentials directory: %w", err)
	}
	if err := files.save(creds); err != nil {
		return nil, err
	}
	return files.restConfig(o.server), nil
}
