package cli

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	goruntime "runtime"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/skiffkube/skiff/internal/sim"
)

func newSimCommand(stdout, stderr io.Writer) *cobra.Command {
	var (
		cfg        sim.Config
		kubeconfig string
		cpu, mem   string
		pods       int
		zones      int
		report     time.Duration
		verbose    bool
	)
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Run N hollow nodes (real agents over a fake runtime) against a server",
		Long: "Runs --nodes node agents with the in-memory fake runtime in this process. They register,\n" +
			"renew leases, report status and run the pods bound to them (pod annotations\n" +
			"skiff.io/fake-exit-code and skiff.io/fake-run-seconds shape their containers).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rc, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return fmt.Errorf("sim: kubeconfig %q: %w", kubeconfig, err)
			}
			cfg.REST = rc
			cfg.Logger = newLogger(stderr, verbose)
			cfg.Capacity, err = simCapacity(cpu, mem, pods)
			if err != nil {
				return err
			}
			for i := 0; i < zones; i++ {
				cfg.Zones = append(cfg.Zones, fmt.Sprintf("zone-%c", 'a'+i%26))
			}
			s, err := sim.New(cfg)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			done := make(chan struct{})
			defer func() { <-done }()
			go func() {
				defer close(done)
				reportMemory(ctx, stderr, s, report)
			}()
			fmt.Fprintf(stdout, "Starting %d hollow nodes: %s .. %s\n", cfg.Nodes, s.NodeName(0), s.NodeName(cfg.Nodes-1))
			return s.Run(ctx)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&cfg.Nodes, "nodes", 10, "number of hollow nodes")
	fs.StringVar(&kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the server")
	fs.StringVar(&cfg.NamePrefix, "name-prefix", "hollow-", "node name prefix")
	fs.StringVar(&cpu, "cpu", "4", "cpu capacity of each node")
	fs.StringVar(&mem, "memory", "16Gi", "memory capacity of each node")
	fs.IntVar(&pods, "pods", 110, "pod capacity of each node")
	fs.IntVar(&zones, "zones", 3, "zones the nodes are spread over (topology.kubernetes.io/zone)")
	fs.DurationVar(&cfg.StartInterval, "start-interval", 5*time.Millisecond, "delay between node starts")
	fs.DurationVar(&report, "report-interval", 30*time.Second, "how often to log started nodes and memory (0: never)")
	fs.BoolVarP(&verbose, "verbose", "v", false, "debug logging")
	return cmd
}

func simCapacity(cpu, mem string, pods int) (corev1.ResourceList, error) {
	c, err := resource.ParseQuantity(cpu)
	if err != nil {
		return nil, fmt.Errorf("sim: --cpu %q: %w", cpu, err)
	}
	m, err := resource.ParseQuantity(mem)
	if err != nil {
		return nil, fmt.Errorf("sim: --memory %q: %w", mem, err)
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:    c,
		corev1.ResourceMemory: m,
		corev1.ResourcePods:   *resource.NewQuantity(int64(pods), resource.DecimalSI),
	}, nil
}

// reportMemory logs progress and the process's resident memory.
func reportMemory(ctx context.Context, w io.Writer, s *sim.Sim, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fmt.Fprintf(w, "sim: nodes=%d rss=%s goroutines=%d\n", s.Started(), residentMemory(), goruntime.NumGoroutine())
		}
	}
}

// residentMemory reads VmRSS from /proc/self/status ("?" elsewhere).
func residentMemory() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := bytes.Fields(sc.Bytes()); len(f) >= 2 && string(f[0]) == "VmRSS:" {
			return string(f[1]) + "kB"
		}
	}
	return "?"
}
