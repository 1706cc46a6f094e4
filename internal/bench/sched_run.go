package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiffkube/skiff/internal/scheduler"
)

// nodesReadyTimeout bounds the wait for every hollow node to be Ready.
const nodesReadyTimeout = 10 * time.Minute

// RunScheduler runs the scheduler benchmark: it starts `skiff server` (API
// server and embedded etcd; scheduler and controllers off) and `skiff sim`
// (the hollow nodes) as child processes, runs the scheduler in this
// process with a client of its own, as `skiff server` runs it, and times
// each scenario: pods placed first, then measured pods created from
// Workers goroutines while the scheduler binds them. Keeping the scheduler
// out of the server's process lets its memory and CPU be read apart.
func RunScheduler(ctx context.Context, cfg SchedConfig) (res *SchedResults, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	dir := cfg.WorkDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "skiff-bench-sched-"); err != nil {
			return nil, fmt.Errorf("creating a work directory: %w", err)
		}
		defer os.RemoveAll(dir)
	} else if err = os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the work directory: %w", err)
	}
	cfg.Progress = &elapsedWriter{w: cfg.Progress, start: time.Now()}
	res = &SchedResults{Config: cfg, LoadBefore: loadAverage()}
	fmt.Fprintf(cfg.Progress, "starting %s server (scheduler and controllers off)\n", cfg.ServerBinary)
	srv, err := startServer(cfg.ServerBinary, dir, "--disable-scheduler", "--disable-controller-manager")
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
	// The controller manager is off, so stand in for its node lifecycle
	// controller: Ready nodes lose the not-ready taint that admission
	// (TaintNodesByCondition) gave them.
	if err = untaintReadyNodes(ctx, cs); err != nil {
		return nil, err
	}
	sched := newSchedRunner(rc, cfg.Seed, cfg.BindWorkers)
	defer func() { err = errors.Join(err, sched.stop()) }()
	if err = sched.start(ctx); err != nil {
		return nil, err
	}
	if cfg.CPUProfile != "" {
		stop, perr := startCPUProfile(cfg.CPUProfile)
		if perr != nil {
			return nil, perr
		}
		defer stop()
	}
	procs := processes{server: srv, sim: sim}
	for _, sc := range cfg.scenarios() {
		r, err := runScenario(ctx, cfg, cs, sched, procs, sc)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		res.Scenarios = append(res.Scenarios, r)
	}
	res.LoadAfter = loadAverage()
	if _, res.ServerPeakRSS, err = srv.memory(); err != nil {
		return nil, err
	}
	if _, res.SimPeakRSS, err = sim.memory(); err != nil {
		return nil, err
	}
	if _, res.SchedulerPeakRSS, err = readMemory("/proc/self/status"); err != nil {
		return nil, err
	}
	return res, nil
}

// stopChild stops a child process, adding its error to *err.
func stopChild(p *serverProcess, err *error) {
	if stopErr := p.stop(); stopErr != nil {
		*err = errors.Join(*err, stopErr)
	}
}

// startCPUProfile writes a CPU profile of this process to path until the
// returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating the CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting the CPU profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// schedRunner runs the scheduler in this process; stop and start again
// give a fresh scheduler (the backlog scenario stops it while it creates).
type schedRunner struct {
	rc          *rest.Config
	seed        int64
	bindWorkers int
	// cancel stops the running scheduler; done yields its Run error.
	cancel context.CancelFunc
	done   chan error
}

// newSchedRunner returns a runner whose scheduler gets a client configured
// as `skiff server` configures its own: protobuf, high QPS.
func newSchedRunner(base *rest.Config, seed int64, bindWorkers int) *schedRunner {
	rc := unlimitedProtobuf(base)
	rc.QPS, rc.Burst = 5000, 10000
	rc.UserAgent = "skiff-scheduler"
	return &schedRunner{rc: rc, seed: seed, bindWorkers: bindWorkers}
}

func (r *schedRunner) start(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(r.rc)
	if err != nil {
		return fmt.Errorf("scheduler client: %w", err)
	}
	s, err := scheduler.New(scheduler.Config{Client: cs, Seed: r.seed, BindWorkers: r.bindWorkers})
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	r.cancel, r.done = cancel, make(chan error, 1)
	go func() { r.done <- s.Run(sctx) }()
	return nil
}

// stop stops the scheduler, if running, and returns its error.
func (r *schedRunner) stop() error {
	if r.cancel == nil {
		return nil
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	return nil
}

// processes are the child processes whose CPU time is read per scenario.
type processes struct{ server, sim *serverProcess }

// cpuTimes are the CPU times of the server, the hollow nodes and this
// process (the scheduler and the pod creators).
type cpuTimes struct{ server, sim, bench time.Duration }

func (p processes) cpu() (cpuTimes, error) {
	var out cpuTimes
	var err error
	if out.server, err = p.server.cpuTime(); err != nil {
		return out, err
	}
	if out.sim, err = p.sim.cpuTime(); err != nil {
		return out, err
	}
	out.bench, err = selfCPUTime()
	return out, err
}

func (c cpuTimes) sub(o cpuTimes) cpuTimes {
	return cpuTimes{server: c.server - o.server, sim: c.sim - o.sim, bench: c.bench - o.bench}
}

// loadAverage reads the 1-minute load average ("?" when unreadable).
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || len(b) == 0 {
		return "?"
	}
	var one, five, fifteen string
	if _, err := fmt.Sscan(string(b), &one, &five, &fifteen); err != nil {
		return "?"
	}
	return one + " " + five + " " + fifteen
}
