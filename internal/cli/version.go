package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/skiffkube/skiff/internal/server"
)

func newVersionCommand(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the Skiff version and the Kubernetes API level it serves",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := server.Version()
			_, err := fmt.Fprintf(stdout, "skiff %s (Kubernetes API %s.%s)\n", v.GitVersion, v.Major, v.Minor)
			return err
		},
	}
}
