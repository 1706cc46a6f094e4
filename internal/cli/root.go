package cli

import (
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

// NewRoot returns the skiff command with every subcommand.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "skiff",
		Short:         "Skiff: a Kubernetes-compatible container orchestrator in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newServerCommand(stderr))
	root.AddCommand(newVersionCommand(stdout))
	root.AddCommand(newBenchCommand(stdout, stderr))
	root.AddCommand(newSimCommand(stdout, stderr))
	root.AddCommand(newAgentCommand(stderr))
	root.AddCommand(newUpCommand(stderr))
	root.AddCommand(newTokenCommand(stdout))
	root.AddCommand(newSecretsEncryptCommand(stdout))
	root.AddCommand(newCertificateCommand(stdout))
	root.AddCommand(newImageCommand(stdout))
	root.AddCommand(newExplainCommand(stdout))
	root.AddCommand(newSecurityCheckCommand(stdout))
	return root
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
