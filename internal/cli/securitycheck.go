package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/skiffkube/skiff/internal/securitycheck"
)

// newSecurityCheckCommand runs the CIS Benchmark controls that apply to
// Skiff against a running server.
func newSecurityCheckCommand(stdout io.Writer) *cobra.Command {
	var kubeconfig, dataDir string
	cmd := &cobra.Command{
		Use:   "security-check",
		Short: "Check a running server against the CIS Kubernetes Benchmark controls that apply to Skiff",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := securitycheck.NewTarget(kubeconfig, dataDir)
			if err != nil {
				return err
			}
			if failed := securitycheck.Run(cmd.Context(), t, securitycheck.Controls(), stdout); failed > 0 {
				return fmt.Errorf("%d security controls failed", failed)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "admin kubeconfig of the server (default <data-dir>/kubeconfig)")
	cmd.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "the server's data directory")
	return cmd
}
