package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// benchLabel marks the pods Bench creates.
const benchLabel = "skiff.io/agent-bench"

// BenchConfig configures Bench.
type BenchConfig struct {
	// Agent is the agent to measure; Bench runs it (Client, Runtime and
	// NodeName are required) for the length of the run. Its Client also
	// creates and watches the pods.
	Agent Config
	// Image and Command make a pod that keeps running (e.g. the busybox
	// image and ["sleep", "3600"]); the image must be present or
	// pullable. ImagePullPolicy defaults to IfNotPresent.
	Image           string
	Command         []string
	ImagePullPolicy corev1.PullPolicy
	// Namespace holds the pods ("default").
	Namespace string
	// Sequential pods are created one after the other (50); Concurrent
	// pods at once (30).
	Sequential, Concurrent int
	// Timeout bounds each wait for pods to run or go (2 min).
	Timeout time.Duration
}

// BenchResult is what Bench measured.
type BenchResult struct {
	// Latencies are the create→Running times of the sequential pods;
	// P50 and P99 their percentiles.
	Latencies []time.Duration
	P50, P99  time.Duration
	// Concurrent is the time from the first create of the concurrent
	// pods until all of them ran.
	Concurrent time.Duration
	// RSSBytes is the resident set of this process while the concurrent
	// pods run (the agent's, when the API server is another process).
	RSSBytes int64
}

// Bench runs the agent of cfg.Agent and measures single-pod
// create→Running latency over cfg.Sequential pods created one at a time
// (each deleted before the next phase), the time for cfg.Concurrent
// pods created at once to run, and the process's RSS with them running.
// Pods are bound to the node directly (no scheduler is involved).
func Bench(ctx context.Context, cfg BenchConfig) (BenchResult, error) {
	cfg = cfg.withDefaults()
	a, err := New(cfg.Agent)
	if err != nil {
		return BenchResult{}, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	agentDone := make(chan error, 1)
	go func() { agentDone <- a.Run(ctx) }()
	defer func() { cancel(); <-agentDone }()

	t := newPodTracker()
	stopTracker, err := t.start(ctx, cfg)
	if err != nil {
		return BenchResult{}, err
	}
	defer stopTracker()

	var res BenchResult
	for i := 0; i < cfg.Sequential; i++ {
		name := fmt.Sprintf("agent-bench-seq-%d", i)
		d, err := cfg.createAndWait(ctx, t, []string{name})
		if err != nil {
			return res, err
		}
		res.Latencies = append(res.Latencies, d)
	}
	res.P50, res.P99 = percentile(res.Latencies, 50), percentile(res.Latencies, 99)
	if err := cfg.deleteAll(ctx, t); err != nil {
		return res, err
	}
	names := make([]string, cfg.Concurrent)
	for i := range names {
		names[i] = fmt.Sprintf("agent-bench-par-%d", i)
	}
	if res.Concurrent, err = cfg.createAndWait(ctx, t, names); err != nil {
		return res, err
	}
	res.RSSBytes, _ = ProcessRSS(os.Getpid())
	return res, cfg.deleteAll(ctx, t)
}

func (c BenchConfig) withDefaults() BenchConfig {
	if c.Namespace == "" {
		c.Namespace = metav1.NamespaceDefault
	}
	if c.Sequential <= 0 {
		c.Sequential = 50
	}
	if c.Concurrent <= 0 {
		c.Concurrent = 30
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = corev1.PullIfNotPresent
	}
	return c
}

func (c BenchConfig) pod(name string) *corev1.Pod {
	grace := int64(1)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: c.Namespace, Labels: map[string]string{benchLabel: "true"}},
		Spec: corev1.PodSpec{
			NodeName: c.Agent.NodeName, TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "main", Image: c.Image, Command: c.Command, ImagePullPolicy: c.ImagePullPolicy}},
		},
	}
}

// createAndWait creates the named pods at once and returns the time
// until all of them run.
func (c BenchConfig) createAndWait(ctx context.Context, t *podTracker, names []string) (time.Duration, error) {
	waits := make([]<-chan struct{}, len(names))
	for i, n := range names {
		waits[i] = t.expect(n)
	}
	start := time.Now()
	errs := make(chan error, len(names))
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Agent.Client.CoreV1().Pods(c.Namespace).Create(ctx, c.pod(n), metav1.CreateOptions{}); err != nil {
				errs <- fmt.Errorf("creating pod %s: %w", n, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	timeout := time.NewTimer(c.Timeout)
	defer timeout.Stop()
	for i, w := range waits {
		select {
		case <-w:
		case <-timeout.C:
			return 0, fmt.Errorf("pod %s not running after %s", names[i], c.Timeout)
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return time.Since(start), nil
}

// deleteAll deletes the bench's pods and waits until they are gone.
func (c BenchConfig) deleteAll(ctx context.Context, t *podTracker) error {
	pods := c.Agent.Client.CoreV1().Pods(c.Namespace)
	sel := labels.Set{benchLabel: "true"}.String()
	if err := pods.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: sel}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the bench pods: %w", err)
	}
	deadline := time.Now().Add(c.Timeout)
	for t.count() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d bench pods still there after %s", t.count(), c.Timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.changed():
		case <-time.After(time.Second):
		}
	}
	// The pods are gone from the API once their containers stopped; their
	// sandboxes are removed by the next sync. Wait for that too, so that
	// stopping the agent leaves nothing behind.
	for {
		left, err := c.sandboxesLeft(ctx)
		if err != nil || left == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d bench sandboxes still there after %s", left, c.Timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// sandboxesLeft counts the runtime's sandboxes of bench pods.
func (c BenchConfig) sandboxesLeft(ctx context.Context) (int, error) {
	sbs, err := c.Agent.Runtime.ListPodSandbox(ctx)
	if err != nil {
		return 0, fmt.Errorf("listing sandboxes: %w", err)
	}
	n := 0
	for _, sb := range sbs {
		if sb.Metadata.Namespace == c.Namespace {
			n++
		}
	}
	return n, nil
}

// podTracker watches the bench's pods and tells when each first runs.
type podTracker struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
	present map[string]bool
	change  chan struct{}
}

func newPodTracker() *podTracker {
	return &podTracker{waiting: map[string]chan struct{}{}, present: map[string]bool{}, change: make(chan struct{}, 1)}
}

// start runs the watch until the returned stop is called.
func (t *podTracker) start(ctx context.Context, c BenchConfig) (stop func(), err error) {
	pods := c.Agent.Client.CoreV1().Pods(c.Namespace)
	sel := labels.Set{benchLabel: "true"}.String()
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = sel
			return pods.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = sel
			return pods.Watch(ctx, o)
		},
	}
	_, inf := cache.NewInformerWithOptions(cache.InformerOptions{ListerWatcher: lw, ObjectType: &corev1.Pod{},
		Handler: cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { t.update(o, false) },
			UpdateFunc: func(_, o any) { t.update(o, false) },
			DeleteFunc: func(o any) { t.update(o, true) },
		}})
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		inf.RunWithContext(ctx)
	}()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		cancel()
		<-done
		return nil, errors.New("bench pod watch did not sync")
	}
	return func() { cancel(); <-done }, nil
}

func (t *podTracker) update(o any, deleted bool) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	p, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if deleted {
		delete(t.present, p.Name)
	} else {
		t.present[p.Name] = true
	}
	if ch, ok := t.waiting[p.Name]; ok && !deleted && p.Status.Phase == corev1.PodRunning {
		close(ch)
		delete(t.waiting, p.Name)
	}
	select {
	case t.change <- struct{}{}:
	default:
	}
}

// expect returns a channel closed when the named pod first runs.
func (t *podTracker) expect(name string) <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	ch := make(chan struct{})
	t.waiting[name] = ch
	return ch
}

func (t *podTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.present)
}

func (t *podTracker) changed() <-chan struct{} { return t.change }

// percentile returns the p-th percentile (nearest rank) of samples.
func percentile(samples []time.Duration, p int) time.Duration {
	if len(samples) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := (p*len(s) + 99) / 100
	return s[max(rank, 1)-1]
}

// ProcessRSS returns the resident set size of process pid, from
// /proc/<pid>/status.
func ProcessRSS(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}
