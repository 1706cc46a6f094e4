package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/skiffkube/skiff/internal/scheduler"
	"github.com/skiffkube/skiff/internal/scheduler/placement"
)

// newExplainCommand is `skiff explain pod NAME`: why a pod is pending.
func newExplainCommand(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Explain scheduling decisions",
	}
	cmd.AddCommand(newExplainPodCommand(stdout))
	return cmd
}

func newExplainPodCommand(stdout io.Writer) *cobra.Command {
	var kubeconfig, namespace, configFile string
	cmd := &cobra.Command{
		Use:   "pod NAME",
		Short: "Say why a pod is pending: every node's reasons for refusing it, or the nodes it fits",
		Long: "Reads the nodes and pods from the API server and runs the scheduler's filters and scores for the\n" +
			"pod over every node, as the scheduler would now. Prints the FailedScheduling-style summary, what\n" +
			"preemption would do, the nodes the pod fits (best scores first) and each other node's reasons.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("explain: kubeconfig %q: %w", kubeconfig, err)
			}
			cs, err := kubernetes.NewForConfig(rc)
			if err != nil {
				return fmt.Errorf("explain: %w", err)
			}
			var profiles []placement.Profile
			if configFile != "" {
				if profiles, err = scheduler.LoadConfigFile(configFile); err != nil {
					return fmt.Errorf("explain: %w", err)
				}
			}
			e, err := scheduler.Explain(cmd.Context(), cs, namespace, args[0], profiles)
			if err != nil {
				return fmt.Errorf("explain: %w", err)
			}
			return e.Write(stdout)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the server")
	fs.StringVarP(&namespace, "namespace", "n", "default", "namespace of the pod")
	fs.StringVar(&configFile, "scheduler-config", "", "scheduler config file the scheduler runs with (weights change the scores)")
	return cmd
}
