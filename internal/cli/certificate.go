package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/skiffkube/skiff/internal/server"
)

func newCertificateCommand(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "certificate", Short: "Manage the server's certificates"}
	var dataDir string
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Reissue every certificate the cluster CA signed for this server (serving, admin, components) with new keys",
		Long: "Reissue the server's CA-signed certificates now, keeping their names; the CA and the service " +
			"account key stay. A running server and its components use the new files for new connections; " +
			"kubeconfigs that name the files keep working. The server also renews certificates within 30 days " +
			"of expiry on its own, and agents renew their node certificates themselves.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			renewed, err := server.RotateCertificates(dataDir, time.Now())
			if err != nil {
				return err
			}
			for _, path := range renewed {
				fmt.Fprintln(stdout, "rotated", path)
			}
			return nil
		},
	}
	rotate.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "the server's data directory")
	cmd.AddCommand(rotate)
	return cmd
}
