package cli

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/skiffkube/skiff/internal/image"
	"github.com/skiffkube/skiff/internal/node"
)

func newImageCommand(stdout io.Writer) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage the images of this node's containerd"}
	var dataDir, socket string
	imp := &cobra.Command{
		Use:   "import FILE.tar...",
		Short: "Import image tarballs (OCI layout or docker save) into the node's containerd",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if socket == "" {
				socket = filepath.Join(node.ContainerdDir(filepath.Join(dataDir, "agent")), "containerd.sock")
			}
			for _, tar := range args {
				refs, err := image.Import(cmd.Context(), socket, tar)
				if err != nil {
					return fmt.Errorf("importing %s: %w", tar, err)
				}
				for _, r := range refs {
					fmt.Fprintln(stdout, r)
				}
			}
			return nil
		},
	}
	imp.Flags().StringVar(&dataDir, "data-dir", defaultDataDir(), "the node's data directory (its containerd runs under <data-dir>/agent/containerd)")
	imp.Flags().StringVar(&socket, "containerd-socket", "", "containerd socket (default: the node's own)")
	cmd.AddCommand(imp)
	return cmd
}
