package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/skiffkube/skiff/internal/scheduler"
	"github.com/skiffkube/skiff/internal/server"
)

// serverFlags are the flags shared by `skiff server` and `skiff up`.
type serverFlags struct {
	cfg             server.Config
	verbose         bool
	schedulerConfig string
}

// load reads the files the flags name, so that a bad file fails at start.
func (f *serverFlags) load() error {
	if f.schedulerConfig == "" {
		return nil
	}
	profiles, err := scheduler.LoadConfigFile(f.schedulerConfig)
	if err != nil {
		return err
	}
	f.cfg.SchedulerProfiles = profiles
	return nil
}

func defaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/skiff"
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".skiff"
	}
	return filepath.Join(home, ".skiff")
}

func (f *serverFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.cfg.DataDir, "data-dir", defaultDataDir(), "directory for certificates, kubeconfig and embedded etcd data")
	fs.StringVar(&f.cfg.BindAddress, "bind-address", "0.0.0.0", "address to serve HTTPS on")
	fs.IntVar(&f.cfg.SecurePort, "secure-port", 6443, "HTTPS port of the API")
	fs.StringVar(&f.cfg.AdvertiseAddress, "advertise-address", "", "IP advertised to the cluster (default: the first non-loopback address)")
	fs.StringSliceVar(&f.cfg.EtcdServers, "etcd-servers", nil, "external etcd endpoints (default: start an embedded etcd under the data dir)")
	fs.StringVar(&f.cfg.KubeconfigPath, "write-kubeconfig", "", "where to write the admin kubeconfig (default <data-dir>/kubeconfig)")
	fs.StringVar(&f.cfg.ServiceCIDR, "service-cidr", "10.96.0.0/12", "range of Service cluster IPs")
	fs.BoolVar(&f.cfg.DisableScheduler, "disable-scheduler", false, "do not run the scheduler in this process")
	fs.BoolVar(&f.cfg.DisableControllerManager, "disable-controller-manager", false, "do not run the controllers in this process")
	fs.StringVar(&f.schedulerConfig, "scheduler-config", "", "scheduler configuration file (Skiff's own or a KubeSchedulerConfiguration)")
	fs.IntVar(&f.cfg.MaxRequestsInflight, "max-requests-inflight", 400, "read-only requests served at once, shared fairly among users (negative: no limit)")
	fs.IntVar(&f.cfg.MaxMutatingRequestsInflight, "max-mutating-requests-inflight", 200, "mutating requests served at once, shared fairly among users (negative: no limit)")
	fs.StringVar(&f.cfg.EncryptionProviderConfig, "encryption-provider-config", "", "EncryptionConfiguration file for encryption at rest (default <data-dir>/encryption-config.yaml, generated to encrypt Secrets)")
	fs.StringVar(&f.cfg.Audit.PolicyFile, "audit-policy-file", "", "audit policy file (default: Metadata for every request but health checks, events and lease renewals; a policy without rules turns auditing off)")
	fs.StringVar(&f.cfg.Audit.LogPath, "audit-log-path", "", "audit log file, \"-\" for standard output (default <data-dir>/audit/audit.log)")
	fs.IntVar(&f.cfg.Audit.MaxAgeDays, "audit-log-maxage", 30, "days to keep rotated audit logs (0: no limit)")
	fs.IntVar(&f.cfg.Audit.MaxBackups, "audit-log-maxbackup", 10, "rotated audit logs to keep (0: no limit)")
	fs.IntVar(&f.cfg.Audit.MaxSizeMB, "audit-log-maxsize", 100, "megabytes an audit log grows to before it is rotated (0: no rotation)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "debug logging")
}

func newServerCommand(stderr io.Writer) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the control plane: API server over etcd",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.cfg.Logger = newLogger(stderr, f.verbose)
			if err := f.load(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runServer(ctx, f.cfg, stderr)
		},
	}
	f.register(cmd)
	// `skiff up` takes the pod network from its agent half's flag.
	cmd.Flags().StringVar(&f.cfg.ClusterCIDR, "cluster-cidr", "10.244.0.0/16", "the pod network; each node is given a range of it for its pods (\"\" turns node IPAM off)")
	return cmd
}

func runServer(ctx context.Context, cfg server.Config, stderr io.Writer) error {
	s, err := server.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Skiff API server is ready at %s\nKubeconfig: %s\n  export KUBECONFIG=%s\n", s.URL, s.KubeconfigPath, s.KubeconfigPath)
	if err := s.Wait(); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "Skiff API server stopped")
	return nil
}
