package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coordinationinformers "k8s.io/client-go/informers/coordination/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	coordinationlisters "k8s.io/client-go/listers/coordination/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// Defaults, as upstream's kube-controller-manager flags.
const (
	DefaultGracePeriod   = 50 * time.Second
	DefaultMonitorPeriod = 5 * time.Second
	DefaultEvictionRate  = 0.1 // nodes per second
)

// podsByNode indexes pods by spec.nodeName.
const podsByNode = "nodeName"

// Config is what the controller needs.
type Config struct {
	// Client writes node status and taints and deletes pods.
	Client kubernetes.Interface
	// Nodes, Leases and Pods are shared informers.
	Nodes  coreinformers.NodeInformer
	Leases coordinationinformers.LeaseInformer
	Pods   coreinformers.PodInformer
	// GracePeriod is how long a node may stay silent (50 s).
	GracePeriod time.Duration
	// MonitorPeriod is how often every node is checked (5 s).
	MonitorPeriod time.Duration
	// EvictionRate is how many nodes per second may get a NoExecute taint
	// (0.1); a burst of one.
	EvictionRate float32
	// Recorder receives events; nil records none.
	Recorder record.EventRecorder
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Controller is the node lifecycle controller.
type Controller struct {
	// cfg holds the settings, with defaults filled.
	cfg Config
	// nodes, leases and pods read the informers' caches.
	nodes  corelisters.NodeLister
	leases coordinationlisters.LeaseLister
	pods   cache.Indexer
	// limiter paces NoExecute taints.
	limiter flowcontrol.RateLimiter
	// loop runs the workers over node names.
	loop kit.Loop
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Nodes == nil || cfg.Leases == nil || cfg.Pods == nil {
		return nil, errors.New("node lifecycle controller: client and informers are required")
	}
	if cfg.GracePeriod <= 0 {
		cfg.GracePeriod = DefaultGracePeriod
	}
	if cfg.MonitorPeriod <= 0 {
		cfg.MonitorPeriod = DefaultMonitorPeriod
	}
	if cfg.EvictionRate <= 0 {
		cfg.EvictionRate = DefaultEvictionRate
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Recorder == nil {
		cfg.Recorder = &record.FakeRecorder{}
	}
	if err := cfg.Pods.Informer().AddIndexers(cache.Indexers{podsByNode: func(obj any) ([]string, error) {
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
			return []string{p.Spec.NodeName}, nil
		}
		return nil, nil
	}}); err != nil {
		return nil, fmt.Errorf("node lifecycle controller: %w", err)
	}
	c := &Controller{
		cfg:     cfg,
		nodes:   cfg.Nodes.Lister(),
		leases:  cfg.Leases.Lister(),
		pods:    cfg.Pods.Informer().GetIndexer(),
		limiter: flowcontrol.NewTokenBucketRateLimiter(cfg.EvictionRate, 1),
	}
	c.loop = kit.Loop{
		Name: "node-lifecycle", Queue: kit.NewQueue("node-lifecycle"), Sync: c.sync, Logger: cfg.Logger,
		Synced: []cache.InformerSynced{cfg.Nodes.Informer().HasSynced, cfg.Leases.Informer().HasSynced, cfg.Pods.Informer().HasSynced},
	}
	if _, err := cfg.Nodes.Informer().AddEventHandler(kit.Handlers(c.loop.Queue)); err != nil {
		return nil, fmt.Errorf("node lifecycle controller: %w", err)
	}
	return c, nil
}

// Run checks every node each MonitorPeriod, and on node changes, until
// ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(c.cfg.MonitorPeriod)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				nodes, _ := c.nodes.List(labels.Everything())
				for _, n := range nodes {
					c.loop.Queue.Add(n.Name)
				}
			}
		}
	}()
	err := c.loop.Run(ctx, workers)
	<-done
	return err
}

func (c *Controller) sync(ctx context.Context, name string) error {
	node, err := c.nodes.Get(name)
	if err != nil {
		return err
	}
	now := c.cfg.Now()
	lease, err := c.leases.Leases(corev1.NamespaceNodeLease).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if Stale(node, lease, now, c.cfg.GracePeriod) {
		if node, err = c.markUnknown(ctx, node, now); err != nil {
			return err
		}
	}
	if node, err = c.syncTaints(ctx, node, now); err != nil {
		return err
	}
	return c.evict(ctx, node, now)
}

// markUnknown sets a silent node's conditions to Unknown and its pods'
// Ready conditions to False, so Services drop them at once.
func (c *Controller) markUnknown(ctx context.Context, node *corev1.Node, now time.Time) (*corev1.Node, error) {
	st, changed := MarkUnknown(node, now)
	if changed {
		n := node.DeepCopy()
		n.Status = st
		updated, err := c.cfg.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		if err != nil {
			return nil, fmt.Errorf("marking node %s unknown: %w", node.Name, err)
		}
		c.cfg.Recorder.Eventf(node, corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", node.Name)
		node = updated
	}
	pods, err := c.pods.ByIndex(podsByNode, node.Name)
	if err != nil {
		return nil, err
	}
	for _, obj := range pods {
		if err := c.markPodNotReady(ctx, obj.(*corev1.Pod), now); err != nil {
			return nil, err
		}
	}
	return node, nil
}

func (c *Controller) markPodNotReady(ctx context.Context, pod *corev1.Pod, now time.Time) error {
	if kit.IsPodTerminal(pod) {
		return nil
	}
	p := pod.DeepCopy()
	changed := false
	for i := range p.Status.Conditions {
		cond := &p.Status.Conditions[i]
		if (cond.Type == corev1.PodReady || cond.Type == corev1.ContainersReady) && cond.Status != corev1.ConditionFalse {
			cond.Status, cond.Reason, cond.LastTransitionTime = corev1.ConditionFalse, "NodeNotReady", metav1.NewTime(now)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if _, err := c.cfg.Client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("marking pod %s/%s not ready: %w", p.Namespace, p.Name, err)
	}
	return nil
}

// syncTaints brings the managed taints in line with the node's
// conditions. NoExecute taints are added at EvictionRate, and not at all
// while every node is unhealthy (a full disruption looks like our own
// network failing, as upstream reasons).
func (c *Controller) syncTaints(ctx context.Context, node *corev1.Node, now time.Time) (*corev1.Node, error) {
	noExecute := hasNoExecute(node.Spec.Taints)
	if !noExecute && !c.fullDisruption() {
		if want := DesiredTaints(node, true); hasNoExecute(want) {
			noExecute = c.limiter.TryAccept()
		}
	}
	taints, changed := MergeTaints(node.Spec.Taints, DesiredTaints(node, noExecute), now)
	if !changed {
		return node, nil
	}
	n := node.DeepCopy()
	n.Spec.Taints = taints
	updated, err := c.cfg.Client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("tainting node %s: %w", node.Name, err)
	}
	return updated, nil
}

func hasNoExecute(taints []corev1.Taint) bool {
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute && (t.Key == TaintNotReady || t.Key == TaintUnreachable) {
			return true
		}
	}
	return false
}

// fullDisruption reports whether no node is Ready (with at least two).
func (c *Controller) fullDisruption() bool {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil || len(nodes) < 2 {
		return false
	}
	for _, n := range nodes {
		if r := condition(n, corev1.NodeReady); r != nil && r.Status == corev1.ConditionTrue {
			return false
		}
	}
	return true
}

// evict deletes the pods that do not tolerate the node's NoExecute taints
// any longer, and requeues the node for the next one due.
func (c *Controller) evict(ctx context.Context, node *corev1.Node, now time.Time) error {
	if !hasNoExecuteAny(node.Spec.Taints) {
		return nil
	}
	pods, err := c.pods.ByIndex(podsByNode, node.Name)
	if err != nil {
		return err
	}
	var next time.Time
	for _, obj := range pods {
		pod := obj.(*corev1.Pod)
		if pod.DeletionTimestamp != nil || kit.IsPodTerminal(pod) {
			continue
		}
		evict, at := EvictAt(pod, node.Spec.Taints, now)
		switch {
		case !evict:
		case at.After(now):
			if next.IsZero() || at.Before(next) {
				next = at
			}
		default:
			if err := kit.DeletePod(ctx, c.cfg.Client, pod); err != nil {
				return err
			}
			c.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "TaintManagerEviction", "Marking for deletion Pod %s/%s", pod.Namespace, pod.Name)
		}
	}
	if !next.IsZero() {
		return kit.RequeueAfter(next.Sub(now))
	}
	return nil
}

func hasNoExecuteAny(taints []corev1.Taint) bool {
	for _, t := range taints {
		if t.Effect == corev1.TaintEffectNoExecute {
			return true
		}
	}
	return false
}
