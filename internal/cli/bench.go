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
	cmd.AddCommand(newBenchSchedulerCommand(stdout, stderr))
	return cmd
}

// writeTable prints a results table and, when out is set, writes it there.
func writeTable(stdout io.Writer, table, out string) error {
	if _, err := io.WriteString(stdout, table); err != nil {
		return err
	}
	if out != "" {
		if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", out, err)
		}
	}
	return nil
}

func newBenchSchedulerCommand(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg bench.SchedConfig
		out string
	)
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Benchmark the scheduler: pods bound per second and create→bound latency on hollow nodes",
		Long: "Starts `skiff server` (scheduler and controllers off) and `skiff sim` (hollow nodes) as child\n" +
			"processes of this binary, runs the scheduler in this process, places --init-pods pods, then creates\n" +
			"the measured pods and times them until bound: basic pods, a backlog created before the scheduler\n" +
			"starts, pods with hostname anti-affinity, and pods with topology spread constraints.\n" +
			"Prints Markdown tables with the issue's targets (≥ 1,000 pods/s, p99 ≤ 1 s).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = stderr
			res, err := bench.RunScheduler(cmd.Context(), cfg)
			if err != nil {
				return fmt.Errorf("bench scheduler: %w", err)
			}
			if err := writeTable(stdout, res.Markdown(), out); err != nil {
				return fmt.Errorf("bench scheduler: %w", err)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&cfg.Nodes, "nodes", bench.DefaultSchedNodes, "hollow nodes")
	fs.IntVar(&cfg.InitPods, "init-pods", bench.DefaultSchedInitPods, "pods placed before each scenario's measured pods")
	fs.IntVar(&cfg.Pods, "pods", bench.DefaultSchedPods, "measured pods of the basic and backlog scenarios")
	fs.IntVar(&cfg.AntiAffinityPods, "anti-affinity-pods", bench.DefaultAntiAffinityPods, "measured pods of the anti-affinity scenario")
	fs.IntVar(&cfg.SpreadPods, "spread-pods", bench.DefaultSpreadPods, "measured pods of the topology spread scenario")
	fs.StringSliceVar(&cfg.Scenarios, "scenarios", bench.ScenarioNames(), "scenarios to run, in order")
	fs.IntVar(&cfg.Workers, "workers", 32, "concurrent pod creators")
	fs.DurationVar(&cfg.NodeStartInterval, "node-start-interval", bench.DefaultNodeStartInterval, "delay between hollow node starts")
	fs.Int64Var(&cfg.Seed, "seed", 0, "seed of the scheduler's tie breaking (0: random)")
	fs.IntVar(&cfg.BindWorkers, "bind-workers", 0, "the scheduler's concurrent binds (0: its default)")
	fs.DurationVar(&cfg.Timeout, "timeout", bench.DefaultSchedTimeout, "longest wait for a scenario's pods to be bound")
	fs.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of the scheduler's process to this file")
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "keep the server's data and the logs here (default: a temporary directory, removed)")
	fs.StringVar(&out, "out", "", "also write the table to this file")
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
			if err := writeTable(stdout, res.Markdown(), out); err != nil {
				return fmt.Errorf("bench api: %w", err)
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
