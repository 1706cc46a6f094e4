package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/skiffkube/skiff/internal/server"
)

func newTokenCommand(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage join tokens for agents"}
	var (
		dataDir, kubeconfig, description string
		ttl                              time.Duration
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a join token; agents join with `skiff agent --server URL --token TOKEN`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if kubeconfig == "" {
				kubeconfig = filepath.Join(dataDir, "kubeconfig")
			}
			rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("admin kubeconfig %s: %w", kubeconfig, err)
			}
			token, err := server.CreateJoinToken(cmd.Context(), rc, ttl, description)
			if err != nil {
				return err
			}
			fmt.Fprintln(stdout, token)
			return nil
		},
	}
	fs := create.Flags()
	fs.StringVar(&dataDir, "data-dir", defaultDataDir(), "the server's data directory (for its admin kubeconfig)")
	fs.StringVar(&kubeconfig, "kubeconfig", "", "admin kubeconfig (default <data-dir>/kubeconfig)")
	fs.DurationVar(&ttl, "ttl", 24*time.Hour, "how long the token is valid")
	fs.StringVar(&description, "description", "", "a note stored with the token")
	cmd.AddCommand(create)
	return cmd
}
