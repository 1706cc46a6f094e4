package bench

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// SchedConfig sets the size of a scheduler benchmark run.
type SchedConfig struct {
	// ServerBinary is the skiff binary started as `<ServerBinary> server`
	// and `<ServerBinary> sim`; "" means this process's executable.
	ServerBinary string
	// Nodes is the number of hollow nodes.
	Nodes int
	// InitPods are placed before each scenario's measured pods (not timed).
	InitPods int
	// Pods is the number of measured pods of the basic scenario.
	Pods int
	// AntiAffinityPods and SpreadPods are the measured pods of the pod
	// anti-affinity and topology spread scenarios.
	AntiAffinityPods, SpreadPods int
	// Scenarios to run, in order (default: every one of ScenarioNames).
	Scenarios []string
	// NodeStartInterval staggers the hollow nodes' start (registration).
	NodeStartInterval time.Duration
	// Workers is the number of concurrent pod creators.
	Workers int
	// Seed fixes the scheduler's tie breaking (0: random).
	Seed int64
	// BindWorkers bounds the scheduler's concurrent binds (0: its default).
	BindWorkers int
	// CPUProfile, when set, receives a CPU profile of the bench process
	// (the scheduler) over the measured phases.
	CPUProfile string
	// Timeout bounds each scenario's wait for its pods to be bound.
	Timeout time.Duration
	// WorkDir holds the server's data and the logs; "" means a new
	// temporary directory, removed at the end.
	WorkDir string
	// Progress receives one line per phase; nil discards them.
	Progress io.Writer
}

// Scenario names.
const (
	ScenarioBasic        = "basic"
	ScenarioBacklog      = "backlog"
	ScenarioAntiAffinity = "anti-affinity"
	ScenarioSpread       = "spread"
)

// ScenarioNames lists the scenarios in their default order.
func ScenarioNames() []string {
	return []string{ScenarioBasic, ScenarioBacklog, ScenarioAntiAffinity, ScenarioSpread}
}

// Defaults of a full scheduler run: upstream's SchedulingBasic
// 5000Nodes_10000Pods, and its anti-affinity and spreading workloads.
const (
	DefaultSchedNodes        = 5000
	DefaultSchedInitPods     = 1000
	DefaultSchedPods         = 10000
	DefaultAntiAffinityPods  = 1000
	DefaultSpreadPods        = 2000
	DefaultSchedTimeout      = 5 * time.Minute
	DefaultNodeStartInterval = 5 * time.Millisecond
	defaultSchedWorkers      = 32
	schedulerThroughputGoal  = 1000.0
	schedulerP99LatencyLimit = time.Second
)

// withDefaults fills unset fields and checks the rest.
func (c SchedConfig) withDefaults() (SchedConfig, error) {
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
	setInt(&c.Nodes, DefaultSchedNodes)
	setInt(&c.InitPods, DefaultSchedInitPods)
	setInt(&c.Pods, DefaultSchedPods)
	setInt(&c.AntiAffinityPods, DefaultAntiAffinityPods)
	setInt(&c.SpreadPods, DefaultSpreadPods)
	setInt(&c.Workers, defaultSchedWorkers)
	if c.NodeStartInterval == 0 {
		c.NodeStartInterval = DefaultNodeStartInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultSchedTimeout
	}
	if len(c.Scenarios) == 0 {
		c.Scenarios = ScenarioNames()
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Nodes < 1 || c.InitPods < 0 || c.Pods < 1 || c.AntiAffinityPods < 1 || c.SpreadPods < 1 || c.Workers < 1 {
		return c, errors.New("nodes, pods and workers must be positive, init pods not negative")
	}
	for _, s := range c.Scenarios {
		if !slices.Contains(ScenarioNames(), s) {
			return c, fmt.Errorf("unknown scenario %q (known: %s)", s, strings.Join(ScenarioNames(), ", "))
		}
	}
	if slices.Contains(c.Scenarios, ScenarioAntiAffinity) && c.antiAffinityInit()+c.AntiAffinityPods > c.Nodes {
		return c, fmt.Errorf("anti-affinity: %d pods (with %d placed first) need as many nodes, have %d",
			c.AntiAffinityPods, c.antiAffinityInit(), c.Nodes)
	}
	return c, nil
}

// antiAffinityInit is how many anti-affinity pods are placed before the
// measured ones: InitPods, but at most a fifth of the nodes.
func (c SchedConfig) antiAffinityInit() int { return min(c.InitPods, c.Nodes/5) }
