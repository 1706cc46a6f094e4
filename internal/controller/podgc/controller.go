package podgc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// Defaults of the configuration.
const (
	DefaultTerminatedPodThreshold = 12500
	defaultPeriod                 = 20 * time.Second
	defaultOrphanGrace            = 40 * time.Second
)

// Reason and message of the DisruptionTarget condition on orphaned pods.
const (
	reasonDeletionByPodGC = "DeletionByPodGC"
	messageNodeGone       = "PodGC: node no longer exists"
)

// Config is what the collector needs.
type Config struct {
	// Client patches pod status and deletes pods; it also confirms that a
	// node is gone.
	Client kubernetes.Interface
	// Pods and Nodes are shared informers.
	Pods  coreinformers.PodInformer
	Nodes coreinformers.NodeInformer
	// TerminatedPodThreshold is how many terminated pods are kept
	// (--terminated-pod-gc-threshold); 0 means 12500, negative keeps all.
	TerminatedPodThreshold int
	// Period is the time between passes; 0 means 20 s.
	Period time.Duration
	// OrphanGrace is how long a node must be missing before its pods are
	// deleted; 0 means 40 s.
	OrphanGrace time.Duration
	// Logger receives the collector's logs; nil discards them.
	Logger *slog.Logger
	// Clock is the time source; nil is the real clock.
	Clock clock.WithTicker
}

// Controller is the pod garbage collector.
type Controller struct {
	client    kubernetes.Interface
	pods      corelisters.PodLister
	nodes     corelisters.NodeLister
	synced    []cache.InformerSynced
	threshold int
	period    time.Duration
	grace     time.Duration
	logger    *slog.Logger
	clock     clock.WithTicker
	// missingSince records when each missing node was first noticed;
	// only Run's goroutine touches it.
	missingSince map[string]time.Time
}

// New builds the collector.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Pods == nil || cfg.Nodes == nil {
		return nil, errors.New("pod garbage collector: client and informers are required")
	}
	c := &Controller{
		client:       cfg.Client,
		pods:         cfg.Pods.Lister(),
		nodes:        cfg.Nodes.Lister(),
		synced:       []cache.InformerSynced{cfg.Pods.Informer().HasSynced, cfg.Nodes.Informer().HasSynced},
		threshold:    cfg.TerminatedPodThreshold,
		period:       cfg.Period,
		grace:        cfg.OrphanGrace,
		logger:       cfg.Logger,
		clock:        cfg.Clock,
		missingSince: map[string]time.Time{},
	}
	if c.threshold == 0 {
		c.threshold = DefaultTerminatedPodThreshold
	}
	if c.period <= 0 {
		c.period = defaultPeriod
	}
	if c.grace <= 0 {
		c.grace = defaultOrphanGrace
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Run collects every period until ctx is done. The collector works in one
// goroutine; workers is accepted for symmetry with other controllers.
func (c *Controller) Run(ctx context.Context, _ int) error {
	if !cache.WaitForCacheSync(ctx.Done(), c.synced...) {
		if ctx.Err() != nil {
			return nil
		}
		return errors.New("pod garbage collector: caches did not sync")
	}
	t := c.clock.NewTicker(c.period)
	defer t.Stop()
	for {
		if err := c.collect(ctx); err != nil && ctx.Err() == nil {
			c.logger.Warn("pod garbage collection", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C():
		}
	}
}

// collect runs one pass.
func (c *Controller) collect(ctx context.Context) error {
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing pods: %w", err)
	}
	gone, err := c.goneNodes(ctx, pods)
	if err != nil {
		return err
	}
	p := makePlan(pods, c.threshold, func(n string) bool { return gone[n] })
	var errs []error
	for _, pod := range p.orphaned {
		if err := c.markOrphan(ctx, pod); err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, c.forceDelete(ctx, pod, "orphaned"))
	}
	for _, pod := range p.unscheduledTerminating {
		errs = append(errs, c.forceDelete(ctx, pod, "unscheduled and terminating"))
	}
	for _, pod := range p.terminated {
		errs = append(errs, c.forceDelete(ctx, pod, "terminated beyond the threshold"))
	}
	return errors.Join(errs...)
}

// goneNodes returns the nodes pods are bound to that have been missing
// from the cache for the grace period and that the API confirms are gone.
func (c *Controller) goneNodes(ctx context.Context, pods []*corev1.Pod) (map[string]bool, error) {
	now := c.clock.Now()
	missing := map[string]bool{}
	for _, p := range pods {
		n := p.Spec.NodeName
		if n == "" || missing[n] {
			continue
		}
		if _, err := c.nodes.Get(n); apierrors.IsNotFound(err) {
			missing[n] = true
		}
	}
	gone := map[string]bool{}
	for n := range c.missingSince {
		if !missing[n] {
			delete(c.missingSince, n) // back, or no pods left
		}
	}
	for n := range missing {
		since, seen := c.missingSince[n]
		if !seen {
			c.missingSince[n] = now
			continue
		}
		if now.Sub(since) < c.grace {
			continue
		}
		_, err := c.client.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			gone[n] = true
		case err != nil:
			return nil, fmt.Errorf("checking node %s: %w", n, err)
		default:
			delete(c.missingSince, n) // the cache lagged
		}
	}
	return gone, nil
}

// markOrphan marks a pod of a vanished node Failed with a DisruptionTarget
// condition before it is deleted, so that controllers see why it went.
func (c *Controller) markOrphan(ctx context.Context, pod *corev1.Pod) error {
	status := map[string]any{
		"conditions": []corev1.PodCondition{{
			Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
			Reason: reasonDeletionByPodGC, Message: messageNodeGone,
			LastTransitionTime: metav1.NewTime(c.clock.Now()),
		}},
	}
	if !isTerminated(pod) {
		status["phase"] = corev1.PodFailed
	}
	patch, err := json.Marshal(map[string]any{"status": status})
	if err != nil {
		return fmt.Errorf("marking pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	_, err = c.client.CoreV1().Pods(pod.Namespace).Patch(ctx, pod.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("marking orphaned pod %s/%s failed: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// forceDelete deletes a pod at once (grace period 0), sparing a pod
// recreated under the same name.
func (c *Controller) forceDelete(ctx context.Context, pod *corev1.Pod, why string) error {
	uid := pod.UID
	err := c.client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: ptr.To[int64](0),
		Preconditions:      &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	c.logger.Info("deleted pod", "pod", pod.Namespace+"/"+pod.Name, "reason", why)
	return nil
}
