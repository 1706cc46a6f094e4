package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/node"
	"github.com/skiffkube/skiff/internal/server"
)

func newUpCommand(stderr io.Writer) *cobra.Command {
	var (
		sf serverFlags
		af agentFlags
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run a one-node cluster: the control plane and a node in one process",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := newLogger(stderr, sf.verbose)
			sf.cfg.Logger = logger
			sf.cfg.ClusterCIDR = af.cfg.ClusterCIDR
			if err := sf.load(); err != nil {
				return err
			}
			if !cmd.Flags().Changed("cluster-dns") {
				// Pods ask the kube-dns Service of this server's range.
				ip, err := server.KubeDNSIP(sf.cfg.ServiceCIDR)
				if err != nil {
					return err
				}
				af.clusterDNS = ip.String()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return runUp(ctx, sf.cfg, af, stderr, logger)
		},
	}
	sf.register(cmd)
	af.register(cmd)
	return cmd
}

// runUp starts the control plane, then the node with its own identity,
// and reports when the node is Ready.
func runUp(ctx context.Context, cfg server.Config, af agentFlags, stderr io.Writer, logger *slog.Logger) error {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		return err
	}
	nc := af.nodeConfig(cfg.DataDir)
	if nc.NodeName == "" {
		nc.NodeName = node.DefaultName()
	}
	nc.Logger = logger
	if nc.Client, err = srv.ComponentConfig(server.ComponentNodePrefix + nc.NodeName); err != nil {
		cancel()
		return errors.Join(err, srv.Wait())
	}
	fmt.Fprintf(stderr, "Skiff API server is ready at %s\nKubeconfig: %s\n  export KUBECONFIG=%s\n", srv.URL, srv.KubeconfigPath, srv.KubeconfigPath)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer cancel() // the node stopping stops the server too
		return node.Run(gctx, nc, nil)
	})
	g.Go(func() error {
		if err := waitNodeReady(gctx, srv.AdminConfig(), nc.NodeName); err == nil {
			logger.Info("node is Ready", "node", nc.NodeName, "since start", time.Since(start).Round(time.Millisecond))
			fmt.Fprintf(stderr, "Node %s is Ready (%s after start)\n", nc.NodeName, time.Since(start).Round(time.Millisecond))
		}
		return nil
	})
	err = g.Wait()
	cancel()
	return errors.Join(err, srv.Wait())
}

// waitNodeReady polls the Node until its Ready condition is True.
func waitNodeReady(ctx context.Context, rc *rest.Config, name string) error {
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	return wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	})
}
