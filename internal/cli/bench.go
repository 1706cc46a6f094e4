package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/skiffkube/skiff/internal/bench"
)

func newBenchCommand(stdout, stderr io.Writer) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run benchmark scenarios and print a results table",
	}
	cmd.AddCommand(newBenchAPICommand(stdout, stderr))
	return cmd
}

func newBenchAPICommand(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg bench.Config
		out string
	)
	cmd := &cobra.Command{
		Use:   "api",
		Short: "Benchmark the API server: start-up, memory, pod creates vs raw etcd, latencies, lists, watch fan-out",
		Long: "Starts `skiff server` (this binary) as a child process with embedded etcd in a temporary directory,\n" +
			"drives it with client-go and prints a Markdown table of the results.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = stderr
			res, err := bench.RunAPI(cmd.Context(), cfg)
			if err != nil {
				return fmt.Errorf("bench api: %w", err)
			}
			table := res.Markdown()
			if _, err := io.WriteString(stdout, table); err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
					return fmt.Errorf("bench api: writing %s: %w", out, err)
				}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&cfg.Pods, "pods", bench.DefaultPods, "pods to create")
	fs.IntVar(&cfg.Workers, "workers", bench.DefaultWorkers, "concurrent client-go workers creating pods (and raw etcd writers)")
	fs.IntVar(&cfg.Watchers, "watchers", bench.DefaultWatchers, "pod watchers of the fan-out scenario")
	fs.IntVar(&cfg.WatchChanges, "changes", bench.DefaultWatchChanges, "updates timed in the fan-out scenario")
	fs.DurationVar(&cfg.Settle, "settle", bench.DefaultSettle, "idle time before the server's memory is read")
	fs.StringVar(&out, "out", "", "also write the table to this file")
	return cmd
}
