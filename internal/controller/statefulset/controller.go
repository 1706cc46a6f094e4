package statefulset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
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

// Config is what the controller needs; the informers come from a shared
// informer factory.
type Config struct {
	// Client creates and deletes pods, claims and revisions and writes
	// status.
	Client kubernetes.Interface
	// StatefulSets, Pods, Claims and Revisions are the shared informers.
	StatefulSets appsinformers.StatefulSetInformer
	Pods         coreinformers.PodInformer
	Claims       coreinformers.PersistentVolumeClaimInformer
	Revisions    appsinformers.ControllerRevisionInformer
	// Recorder records Events; nil records none.
	Recorder record.EventRecorder
	// Logger receives the controller's logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Controller runs the pods and claims of StatefulSets.
type Controller struct {
	// client writes pods, claims, revisions and StatefulSet status.
	client kubernetes.Interface
	// setLister, podLister and claimLister read the informers' caches.
	setLister   appslisters.StatefulSetLister
	podLister   corelisters.PodLister
	claimLister corelisters.PersistentVolumeClaimLister
	// history reads and writes ControllerRevisions.
	history kit.History
	// expect remembers creations and deletions not yet observed.
	expect *kit.Expectations
	// recorder records Events.
	recorder record.EventRecorder
	// queue holds namespace/name keys of StatefulSets to sync.
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
	if cfg.Client == nil || cfg.StatefulSets == nil || cfg.Pods == nil || cfg.Claims == nil || cfg.Revisions == nil {
		return nil, errors.New("statefulset controller: client and informers are required")
	}
	c := &Controller{
		client:      cfg.Client,
		setLister:   cfg.StatefulSets.Lister(),
		podLister:   cfg.Pods.Lister(),
		claimLister: cfg.Claims.Lister(),
		history:     kit.History{Client: cfg.Client, Lister: cfg.Revisions.Lister()},
		recorder:    cfg.Recorder,
		logger:      cfg.Logger,
		now:         cfg.Now,
		queue:       kit.NewQueue("statefulset"),
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
	c.loop = &kit.Loop{Name: "statefulset", Queue: c.queue, Sync: c.sync, Logger: c.logger,
		Synced: []cache.InformerSynced{cfg.StatefulSets.Informer().HasSynced, cfg.Pods.Informer().HasSynced,
			cfg.Claims.Informer().HasSynced, cfg.Revisions.Informer().HasSynced}}
	if _, err := cfg.StatefulSets.Informer().AddEventHandler(kit.Handlers(c.queue)); err != nil {
		return nil, fmt.Errorf("statefulset controller: statefulset handler: %w", err)
	}
	if _, err := cfg.Pods.Informer().AddEventHandler(kit.OwnedPodHandlers(kind(), c.queue, c.expect, c.matching)); err != nil {
		return nil, fmt.Errorf("statefulset controller: pod handler: %w", err)
	}
	// Claims are only read from the cache; a claim deleted under a pod
	// shows up at the pod's next sync.
	cfg.Claims.Informer()
	return c, nil
}

// Run waits for the caches, runs workers until ctx is done, then stops
// them and returns.
func (c *Controller) Run(ctx context.Context, workers int) error {
	c.logger.Info("starting statefulset controller", "workers", workers)
	defer c.logger.Info("stopped statefulset controller")
	return c.loop.Run(ctx, workers)
}

// matching lists the owners whose selector matches an orphan pod, so
// they may adopt it.
func (c *Controller) matching(pod *corev1.Pod) []string {
	sets, err := c.setLister.StatefulSets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return nil
	}
	return kit.SelectorMatches(sets, func(s *appsv1.StatefulSet) *metav1.LabelSelector { return s.Spec.Selector }, pod)
}
