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
	cmd.AddCommand(newBenchProxyCommand(stdout))
	cmd.AddCommand(newBenchAgentCommand(stdout, stderr))
	cmd.AddCommand(newBenchControllersCommand(stdout, stderr))
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

func newBenchProxyCommand(stdout io.Writer) *cobra.Command {
	var cfg bench.ProxyConfig
	cmd := &cobra.Command{
		Use:   "proxy",
		Short: "Benchmark the service proxy: program N Services × M endpoints into the kernel, time one-endpoint updates",
		Long: "Programs the rule sets of --services Services (each size from an empty table) in a temporary network\n" +
			"namespace, then times single-endpoint updates. Needs root and nft (iptables-restore for --modes iptables).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := bench.RunProxy(cmd.Context(), cfg, stdout); err != nil {
				return fmt.Errorf("bench proxy: %w", err)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.IntSliceVar(&cfg.Services, "services", []int{1000, 10000}, "numbers of Services, each run from an empty table")
	fs.IntVar(&cfg.Endpoints, "endpoints", 5, "endpoints per Service")
	fs.IntVar(&cfg.Updates, "updates", 20, "one-endpoint updates timed per size")
	fs.StringSliceVar(&cfg.Modes, "modes", []string{"nftables"}, "modes to measure: nftables, iptables")
	return cmd
}

func newBenchAgentCommand(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg bench.AgentConfig
		out string
	)
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Benchmark the node agent on real containerd: create→Running latency, 30 pods at once, agent RSS",
		Long: "Starts `skiff server` (this binary) as a child process, then containerd and the agent in this process,\n" +
			"and times busybox pods (sleep 3600) bound to the node: --sequential pods one at a time (p50/p99\n" +
			"create→Running), then --concurrent at once, with the agent's RSS. Targets: p50 ≤ 0.5 s, p99 ≤ 1 s,\n" +
			"RSS ≤ 60 MB. Needs root, containerd, runc and the CNI plugins; every container is removed at the end.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = stderr
			res, err := bench.RunAgent(cmd.Context(), cfg)
			if err != nil {
				return fmt.Errorf("bench agent: %w", err)
			}
			if err := writeTable(stdout, res.Markdown(), out); err != nil {
				return fmt.Errorf("bench agent: %w", err)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&cfg.Sequential, "sequential", bench.DefaultAgentSequential, "pods created one after the other")
	fs.IntVar(&cfg.Concurrent, "concurrent", bench.DefaultAgentConcurrent, "pods created at once")
	fs.StringVar(&cfg.ImagesDir, "images-dir", "", "image tarballs to import (default: build them from the source tree around the working directory, as `make images` does)")
	fs.DurationVar(&cfg.Timeout, "timeout", bench.DefaultAgentTimeout, "longest wait for pods to run or go")
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "keep the server's data and the logs here (default: a temporary directory, removed)")
	fs.StringVar(&out, "out", "", "also write the table to this file")
	return cmd
}

func newBenchControllersCommand(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg bench.ControllersConfig
		out string
	)
	cmd := &cobra.Command{
		Use:   "controllers",
		Short: "Benchmark the controllers on hollow nodes: Deployment available, rolling update, Job burst",
		Long: "Starts `skiff server` (scheduler and controllers on) and `skiff sim` (hollow nodes) as child processes\n" +
			"of this binary and times a --replicas Deployment becoming fully available, a rolling update of its\n" +
			"template, and --jobs Jobs (containers exit 0 after 1 s) completing, with the server's CPU and peak RSS.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.Progress = stderr
			res, err := bench.RunControllers(cmd.Context(), cfg)
			if err != nil {
				return fmt.Errorf("bench controllers: %w", err)
			}
			if err := writeTable(stdout, res.Markdown(), out); err != nil {
				return fmt.Errorf("bench controllers: %w", err)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&cfg.Nodes, "nodes", bench.DefaultCtrlNodes, "hollow nodes")
	fs.IntVar(&cfg.Replicas, "replicas", bench.DefaultCtrlReplica, "replicas of the Deployment")
	fs.IntVar(&cfg.Jobs, "jobs", bench.DefaultCtrlJobs, "Jobs of the burst")
	fs.IntVar(&cfg.Workers, "workers", 32, "concurrent Job creators")
	fs.DurationVar(&cfg.NodeStartInterval, "node-start-interval", bench.DefaultNodeStartInterval, "delay between hollow node starts")
	fs.DurationVar(&cfg.Timeout, "timeout", bench.DefaultCtrlTimeout, "longest wait of each phase")
	fs.StringVar(&cfg.WorkDir, "work-dir", "", "keep the server's data and the logs here (default: a temporary directory, removed)")
	fs.StringVar(&out, "out", "", "also write the table to this file")
	return cmd
}
