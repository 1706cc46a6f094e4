package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
)

// Defaults of a full controllers run (issue 5).
const (
	DefaultCtrlNodes   = 100
	DefaultCtrlReplica = 1000
	DefaultCtrlJobs    = 1000
	DefaultCtrlTimeout = 10 * time.Minute
	defaultCtrlWorkers = 32
	ctrlNamespace      = "bench-controllers"
)

// ControllersConfig sets the size of a controllers benchmark run.
type ControllersConfig struct {
	// ServerBinary is the skiff binary started as `<ServerBinary> server`
	// and `<ServerBinary> sim`; "" means this process's executable.
	ServerBinary string
	// Nodes is the number of hollow nodes.
	Nodes int
	// Replicas of the Deployment; Jobs in the burst (completions 1 each).
	Replicas, Jobs int
	// Workers create the Jobs concurrently.
	Workers int
	// NodeStartInterval staggers the hollow nodes' start.
	NodeStartInterval time.Duration
	// Timeout bounds each phase.
	Timeout time.Duration
	// WorkDir holds the server's data and the logs; "" means a new
	// temporary directory, removed at the end.
	WorkDir string
	// Progress receives one line per phase; nil discards them.
	Progress io.Writer
}

func (c ControllersConfig) withDefaults() (ControllersConfig, error) {
	if c.ServerBinary == "" {
		exe, err := os.Executable()
		if err != nil {
			return c, fmt.Errorf("finding the skiff binary: %w", err)
		}
		c.ServerBinary = exe
	}
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setInt(&c.Nodes, DefaultCtrlNodes)
	setInt(&c.Replicas, DefaultCtrlReplica)
	setInt(&c.Jobs, DefaultCtrlJobs)
	setInt(&c.Workers, defaultCtrlWorkers)
	if c.NodeStartInterval == 0 {
		c.NodeStartInterval = DefaultNodeStartInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultCtrlTimeout
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Nodes < 1 || c.Replicas < 1 || c.Jobs < 1 || c.Workers < 1 {
		return c, errors.New("nodes, replicas, jobs and workers must be positive")
	}
	return c, nil
}

// PhaseResult is one timed phase of the controllers benchmark.
type PhaseResult struct {
	Name string
	// Elapsed runs from the first write of the phase until its goal held.
	Elapsed time.Duration
	// ServerCPU is the server's CPU time over the phase.
	ServerCPU time.Duration
}

// ControllersResults are the figures of one RunControllers.
type ControllersResults struct {
	Config ControllersConfig
	// LoadBefore and LoadAfter are the machine's load averages.
	LoadBefore, LoadAfter string
	// NodesReadyAfter is the time until every hollow node was Ready.
	NodesReadyAfter time.Duration
	// Phases in the order run: deployment, rollout, jobs.
	Phases []PhaseResult
	// ServerCPU is the server's CPU time from its start to the end of the
	// last phase; ServerPeakRSS its peak resident memory (VmHWM).
	ServerCPU     time.Duration
	ServerPeakRSS int64
	// SimPeakRSS is the simulator's peak resident memory.
	SimPeakRSS int64
}

// RunControllers runs the controllers benchmark: `skiff server` (API
// server, scheduler and controllers) and `skiff sim` as child processes,
// then times a Deployment of Replicas becoming available, a rolling update
// of its template, and a burst of Jobs (hollow containers that exit 0
// after a second) completing, with the server's CPU time per phase.
func RunControllers(ctx context.Context, cfg ControllersConfig) (res *ControllersResults, err error) {
	if cfg, err = cfg.withDefaults(); err != nil {
		return nil, err
	}
	dir, cleanup, err := workDir(cfg.WorkDir, "skiff-bench-ctrl-")
	if err != nil {
		return nil, err
	}
	defer cleanup()
	cfg.Progress = &elapsedWriter{w: cfg.Progress, start: time.Now()}
	res = &ControllersResults{Config: cfg, LoadBefore: loadAverage()}
	fmt.Fprintf(cfg.Progress, "starting %s server (scheduler and controllers on)\n", cfg.ServerBinary)
	srv, err := startServer(cfg.ServerBinary, dir)
	if err != nil {
		return nil, err
	}
	defer stopChild(srv, &err)
	if _, err = srv.waitReady(ctx); err != nil {
		return nil, err
	}
	rc, err := srv.restConfig()
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(unlimitedProtobuf(rc))
	if err != nil {
		return nil, fmt.Errorf("benchmark client: %w", err)
	}
	fmt.Fprintf(cfg.Progress, "starting %d hollow nodes\n", cfg.Nodes)
	sim, err := startProcess(cfg.ServerBinary, filepath.Join(dir, "sim.log"), "sim", "--nodes", strconv.Itoa(cfg.Nodes),
		"--kubeconfig", filepath.Join(srv.dataDir, "kubeconfig"), "--start-interval", cfg.NodeStartInterval.String(), "--report-interval", "0")
	if err != nil {
		return nil, err
	}
	defer stopChild(sim, &err)
	if res.NodesReadyAfter, err = waitNodesReady(ctx, cs, cfg.Nodes, sim); err != nil {
		return nil, err
	}
	if err = createNamespace(ctx, cs, ctrlNamespace); err != nil {
		return nil, err
	}
	w := ctrlWorkload{cs: cs, ns: ctrlNamespace, cfg: cfg}
	phases := []struct {
		name string
		run  func(context.Context) error
	}{
		{"deployment", w.deploy},
		{"rollout", w.rollout},
		{"jobs", w.jobs},
	}
	for _, p := range phases {
		r, err := timePhase(ctx, srv, cfg, p.name, p.run)
		if err != nil {
			return nil, fmt.Errorf("phase %s: %w", p.name, err)
		}
		res.Phases = append(res.Phases, r)
	}
	res.LoadAfter = loadAverage()
	if res.ServerCPU, err = srv.cpuTime(); err != nil {
		return nil, err
	}
	if _, res.ServerPeakRSS, err = srv.memory(); err != nil {
		return nil, err
	}
	if _, res.SimPeakRSS, err = sim.memory(); err != nil {
		return nil, err
	}
	return res, nil
}

// timePhase runs one phase within cfg.Timeout and measures it.
func timePhase(ctx context.Context, srv *serverProcess, cfg ControllersConfig, name string, run func(context.Context) error) (PhaseResult, error) {
	res := PhaseResult{Name: name}
	cpu0, err := srv.cpuTime()
	if err != nil {
		return res, err
	}
	pctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	start := time.Now()
	if err := run(pctx); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	cpu1, err := srv.cpuTime()
	if err != nil {
		return res, err
	}
	res.ServerCPU = cpu1 - cpu0
	fmt.Fprintf(cfg.Progress, "%s: done in %s (server CPU %s)\n", name, seconds(res.Elapsed), seconds(res.ServerCPU))
	return res, nil
}

// Markdown renders the results as a Markdown table.
func (r *ControllersResults) Markdown() string {
	var b strings.Builder
	c := r.Config
	fmt.Fprintf(&b, "%d hollow nodes (Ready after %s); load average before %s, after %s.\n\n",
		c.Nodes, seconds(r.NodesReadyAfter), r.LoadBefore, r.LoadAfter)
	b.WriteString("| Measurement | Time | Server CPU over the phase |\n|---|---:|---:|\n")
	for _, p := range r.Phases {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.phaseLabel(p.Name), seconds(p.Elapsed), seconds(p.ServerCPU))
	}
	fmt.Fprintf(&b, "| Server CPU time, start to end (API server + etcd + scheduler + controllers) | – | %s |\n", seconds(r.ServerCPU))
	fmt.Fprintf(&b, "| Server peak RSS (VmHWM) | %s | – |\n", megabytes(r.ServerPeakRSS))
	fmt.Fprintf(&b, "| %d hollow nodes (skiff sim) peak RSS | %s | – |\n", c.Nodes, megabytes(r.SimPeakRSS))
	return b.String()
}

func (r *ControllersResults) phaseLabel(name string) string {
	c := r.Config
	switch name {
	case "deployment":
		return fmt.Sprintf("%d-replica Deployment created → fully available", c.Replicas)
	case "rollout":
		return fmt.Sprintf("Rolling update of its template (25%% surge / 25%% unavailable) → %d new pods available, old ones gone", c.Replicas)
	case "jobs":
		return fmt.Sprintf("Burst of %d Jobs (completions 1, containers run 1 s) → all Complete", c.Jobs)
	}
	return name
}
