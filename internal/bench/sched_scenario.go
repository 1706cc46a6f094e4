package bench

import (
	"context"
	"fmt"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/client-go/util/retry"
)

// ScenarioResult holds the figures of one scenario.
type ScenarioResult struct {
	Name string
	// Init pods were placed first; Measured pods were timed.
	Init, Measured int
	// Backlog says the measured pods were all created before the scheduler
	// started: Elapsed then runs from the first to the last bind.
	Backlog bool
	// Elapsed runs from the first create to the last bind.
	Elapsed time.Duration
	// CreatesPerSecond is the rate at which the measured pods were created.
	CreatesPerSecond float64
	// Latency is create→bound as seen by one watch (zero for a backlog).
	Latency Percentiles
	// PerSecond counts binds in each second from the start.
	PerSecond []int
	// CPU is the CPU time per measured pod of the server, the hollow
	// nodes and the bench process (scheduler and pod creators).
	CPU cpuTimes
}

// PodsPerSecond is the scheduling throughput.
func (r ScenarioResult) PodsPerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Measured) / r.Elapsed.Seconds()
}

// runScenario places the scenario's init pods, then creates and times its
// measured pods, each set in a namespace of its own.
func runScenario(ctx context.Context, cfg SchedConfig, cs kubernetes.Interface, sched *schedRunner, procs processes, sc scenario) (ScenarioResult, error) {
	res := ScenarioResult{Name: sc.name, Init: sc.init, Measured: sc.measured, Backlog: sc.backlog}
	ns := sc.namespace()
	if err := createNamespace(ctx, cs, ns); err != nil {
		return res, err
	}
	tracker := newBindTracker()
	tctx, cancel := context.WithCancel(ctx)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- tracker.run(tctx, cs, ns, ready) }()
	defer func() {
		cancel()
		<-done
	}()
	select {
	case <-ready:
	case err := <-done:
		return res, err
	}
	if sc.init > 0 {
		fmt.Fprintf(cfg.Progress, "%s: placing %d pods first\n", sc.name, sc.init)
		if _, err := createPodsWith(ctx, cs, ns, initName, cfg.Workers, sc.init, sc.pod); err != nil {
			return res, err
		}
		if err := tracker.waitBound(ctx, initName, sc.init, cfg.Timeout); err != nil {
			return res, fmt.Errorf("%w%s", err, pendingReason(ctx, cs, ns))
		}
	}
	if sc.backlog {
		if err := sched.stop(); err != nil {
			return res, err
		}
	}
	fmt.Fprintf(cfg.Progress, "%s: creating %d pods from %d workers\n", sc.name, sc.measured, cfg.Workers)
	cpu0, err := procs.cpu()
	if err != nil {
		return res, err
	}
	start := time.Now()
	stats, err := createPodsWith(ctx, cs, ns, measuredName, cfg.Workers, sc.measured, sc.pod)
	if err != nil {
		return res, err
	}
	res.CreatesPerSecond = stats.PerSecond()
	if sc.backlog {
		fmt.Fprintf(cfg.Progress, "%s: starting the scheduler on %d pending pods\n", sc.name, sc.measured)
		if err := sched.start(ctx); err != nil {
			return res, err
		}
	}
	if err := tracker.waitBound(ctx, measuredName, sc.measured, cfg.Timeout); err != nil {
		return res, fmt.Errorf("%w%s", err, pendingReason(ctx, cs, ns))
	}
	cpu1, err := procs.cpu()
	if err != nil {
		return res, err
	}
	lat, binds := tracker.samples(measuredName)
	if sc.backlog {
		start = binds[0]
	} else {
		res.Latency = percentiles(lat)
	}
	res.Elapsed = binds[len(binds)-1].Sub(start)
	res.PerSecond = perSecondCounts(start, binds)
	d := cpu1.sub(cpu0)
	n := time.Duration(sc.measured)
	res.CPU = cpuTimes{server: d.server / n, sim: d.sim / n, bench: d.bench / n}
	fmt.Fprintf(cfg.Progress, "%s: %d pods bound in %v (%.0f pods/s)\n", sc.name, sc.measured, res.Elapsed.Round(time.Millisecond), res.PodsPerSecond())
	// The next scenario starts on empty nodes.
	zero := int64(0)
	err = cs.CoreV1().Pods(ns).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &zero}, metav1.ListOptions{})
	if err != nil {
		return res, fmt.Errorf("deleting the pods of %s: %w", ns, err)
	}
	return res, nil
}

// pendingReason describes why one pending pod of namespace waits, for a
// timeout's error message.
func pendingReason(ctx context.Context, cs kubernetes.Interface, namespace string) string {
	list, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=", Limit: 1})
	if err != nil || len(list.Items) == 0 {
		return ""
	}
	p := &list.Items[0]
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			return fmt.Sprintf(" (%s: %s: %s)", p.Name, c.Reason, c.Message)
		}
	}
	return fmt.Sprintf(" (%s has no PodScheduled condition)", p.Name)
}

// perSecondCounts counts the sorted times in each whole second from start.
func perSecondCounts(start time.Time, times []time.Time) []int {
	var out []int
	for _, t := range times {
		i := max(0, int(t.Sub(start)/time.Second))
		for len(out) <= i {
			out = append(out, 0)
		}
		out[i]++
	}
	return out
}

// waitNodesReady waits until n nodes are Ready, or the simulator exits,
// and returns how long that took.
func waitNodesReady(ctx context.Context, cs kubernetes.Interface, n int, sim *serverProcess) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, nodesReadyTimeout)
	defer cancel()
	go func() {
		select {
		case <-sim.exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	ready := map[string]bool{}
	lw := cache.NewListWatchFromClient(cs.CoreV1().RESTClient(), "nodes", "", fields.Everything())
	_, err := watchtools.UntilWithSync(ctx, lw, &corev1.Node{}, nil, func(ev watch.Event) (bool, error) {
		if node, ok := ev.Object.(*corev1.Node); ok {
			ready[node.Name] = nodeReady(node)
		}
		return countTrue(ready) >= n, nil
	})
	if err != nil {
		select {
		case <-sim.exited:
			return 0, fmt.Errorf("the simulator exited (%v): %s", sim.waitErr, sim.logTail())
		default:
		}
		return 0, fmt.Errorf("%d of %d nodes Ready: %w", countTrue(ready), n, err)
	}
	return time.Since(start), nil
}

// untaintReadyNodes removes the node.kubernetes.io/not-ready NoSchedule
// taint from every Ready node, 16 at a time.
func untaintReadyNodes(ctx context.Context, cs kubernetes.Interface) error {
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := range nodes.Items {
		name := nodes.Items[i].Name
		g.Go(func() error {
			return retry.RetryOnConflict(retry.DefaultRetry, func() error {
				n, err := cs.CoreV1().Nodes().Get(gctx, name, metav1.GetOptions{})
				if err != nil {
					return err
				}
				kept := slices.DeleteFunc(slices.Clone(n.Spec.Taints), func(t corev1.Taint) bool {
					return t.Key == corev1.TaintNodeNotReady && t.Effect == corev1.TaintEffectNoSchedule
				})
				if len(kept) == len(n.Spec.Taints) || !nodeReady(n) {
					return nil
				}
				n.Spec.Taints = kept
				_, err = cs.CoreV1().Nodes().Update(gctx, n, metav1.UpdateOptions{})
				return err
			})
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("removing not-ready taints: %w", err)
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func countTrue(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if v {
			n++
		}
	}
	return n
}

// selfCPUTime is the user and system CPU time this process has used.
func selfCPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("reading this process's CPU time: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
