package daemonset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// kind is the DaemonSet's group, version and kind, for owner references.
func kind() schema.GroupVersionKind { return appsv1.SchemeGroupVersion.WithKind("DaemonSet") }

// Config is what the controller needs; the informers come from a shared
// informer factory.
type Config struct {
	// Client creates and deletes pods and revisions and writes status.
	Client kubernetes.Interface
	// DaemonSets, Pods, Nodes and Revisions are the shared informers.
	DaemonSets appsinformers.DaemonSetInformer
	Pods       coreinformers.PodInformer
	Nodes      coreinformers.NodeInformer
	Revisions  appsinformers.ControllerRevisionInformer
	// Recorder records Events; nil records none.
	Recorder record.EventRecorder
	// Logger receives the controller's logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Controller keeps one pod of each DaemonSet on every eligible node.
type Controller struct {
	// client writes pods, revisions and DaemonSet status.
	client kubernetes.Interface
	// dsLister, podLister and nodeLister read the informers' caches.
	dsLister   appslisters.DaemonSetLister
	podLister  corelisters.PodLister
	nodeLister corelisters.NodeLister
	// history reads and writes ControllerRevisions.
	history kit.History
	// expect remembers creations and deletions not yet observed.
	expect *kit.Expectations
	// recorder records Events.
	recorder record.EventRecorder
	// queue holds namespace/name keys of DaemonSets to sync.
	queue workqueue.TypedRateLimitingInterface[string]
	// loop runs the workers.
	loop *kit.Loop
	// logger receives progress and errors.
	logger *slog.Logger
	// now is the clock.
	now func() time.Time
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.DaemonSets == nil || cfg.Pods == nil || cfg.Nodes == nil || cfg.Revisions == nil {
		return nil, errors.New("daemonset controller: client and informers are required")
	}
	c := &Controller{
		client:     cfg.Client,
		dsLister:   cfg.DaemonSets.Lister(),
		podLister:  cfg.Pods.Lister(),
		nodeLister: cfg.Nodes.Lister(),
		history:    kit.History{Client: cfg.Client, Lister: cfg.Revisions.Lister()},
		recorder:   cfg.Recorder,
		logger:     cfg.Logger,
		now:        cfg.Now,
		queue:      kit.NewQueue("daemonset"),
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.recorder == nil {
		c.recorder = &record.FakeRecorder{}
	}
	c.expect = kit.NewExpectations(c.now)
	c.loop = &kit.Loop{Name: "daemonset", Queue: c.queue, Sync: c.sync, Logger: c.logger,
		Synced: []cache.InformerSynced{cfg.DaemonSets.Informer().HasSynced, cfg.Pods.Informer().HasSynced,
			cfg.Nodes.Informer().HasSynced, cfg.Revisions.Informer().HasSynced}}
	if _, err := cfg.DaemonSets.Informer().AddEventHandler(kit.Handlers(c.queue)); err != nil {
		return nil, fmt.Errorf("daemonset controller: daemonset handler: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(kit.OwnedPodHandlers(kind(), c.queue, c.expect, c.matching)); err != nil {
		return nil, fmt.Errorf("daemonset controller: pod handler: %w", err)
	}
	if _, err := cfg.Nodes.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.enqueueAll() },
		UpdateFunc: c.updateNode,
		DeleteFunc: func(any) { c.enqueueAll() },
	}); err != nil {
		return nil, fmt.Errorf("daemonset controller: node handler: %w", err)
	}
	return c, nil
}

// Run waits for the caches, runs workers until ctx is done, then stops
// them and returns.
func (c *Controller) Run(ctx context.Context, workers int) error {
	c.logger.Info("starting daemonset controller", "workers", workers)
	defer c.logger.Info("stopped daemonset controller")
	return c.loop.Run(ctx, workers)
}

// matching lists the owners whose selector matches an orphan pod, so
// they may adopt it.
func (c *Controller) matching(pod *corev1.Pod) []string {
	sets, err := c.dsLister.DaemonSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	return kit.SelectorMatches(sets, func(s *appsv1.DaemonSet) *metav1.LabelSelector { return s.Spec.Selector }, pod)
}

// updateNode queues every DaemonSet when something that decides
// eligibility changed: labels, taints, or the node's conditions.
func (c *Controller) updateNode(old, cur any) {
	o, ok1 := old.(*corev1.Node)
	n, ok2 := cur.(*corev1.Node)
	if !ok1 || !ok2 {
		return
	}
	if equality.Semantic.DeepEqual(o.Labels, n.Labels) && equality.Semantic.DeepEqual(o.Spec.Taints, n.Spec.Taints) &&
		o.Spec.Unschedulable == n.Spec.Unschedulable && readyStatus(o) == readyStatus(n) {
		return
	}
	c.enqueueAll()
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status
		}
	}
	return corev1.ConditionUnknown
}

func (c *Controller) enqueueAll() {
	sets, err := c.dsLister.List(labels.Everything())
	if err != nil {
		return
	}
	for _, ds := range sets {
		c.queue.Add(ds.Namespace + "/" + ds.Name)
	}
}
