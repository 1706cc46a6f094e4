package replicaset

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// DefaultBurstReplicas caps the pods one sync creates or deletes, as
// upstream's --concurrent-... burst of 500.
const DefaultBurstReplicas = 500

// Config is what the controller needs. Set ReplicaSets for New and
// ReplicationControllers for NewForReplicationControllers.
type Config struct {
	// Client creates and deletes pods, patches their owner references and
	// writes owner status.
	Client kubernetes.Interface
	// Pods is the shared pod informer.
	Pods coreinformers.PodInformer
	// ReplicaSets is the shared ReplicaSet informer (New).
	ReplicaSets appsinformers.ReplicaSetInformer
	// ReplicationControllers is the shared ReplicationController informer
	// (NewForReplicationControllers).
	ReplicationControllers coreinformers.ReplicationControllerInformer
	// Recorder records events on the owners; nil records nothing.
	Recorder record.EventRecorder
	// Logger receives the controller's logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// BurstReplicas caps the pods created or deleted per sync; zero means
	// DefaultBurstReplicas.
	BurstReplicas int
}

// Controller keeps ReplicaSets' (or ReplicationControllers') pods at
// their replica count.
type Controller struct {
	// client writes pods and owner status.
	client kubernetes.Interface
	// kind reads and writes the owners, ReplicaSets or RCs.
	kind kind
	// pods reads pods from the shared cache.
	pods corelisters.PodLister
	// loop runs the workers over the queue of owner keys.
	loop *kit.Loop
	// queue holds namespace/name keys of owners to sync.
	queue workqueue.TypedRateLimitingInterface[string]
	// expectations holds the creations and deletions not yet observed.
	expectations *kit.Expectations
	// recorder records events on owners.
	recorder record.EventRecorder
	// logger receives progress and errors.
	logger *slog.Logger
	// now is the clock.
	now func() time.Time
	// burst caps the pods created or deleted per sync.
	burst int
}

// New builds the ReplicaSet controller and registers its handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.ReplicaSets == nil {
		return nil, errors.New("replicaset controller: the ReplicaSet informer is required")
	}
	k := &replicaSets{client: cfg.Client, inf: cfg.ReplicaSets, lister: cfg.ReplicaSets.Lister()}
	return newController(cfg, "replicaset", k)
}

// NewForReplicationControllers builds the ReplicationController
// controller, the same logic over core/v1 ReplicationControllers.
func NewForReplicationControllers(cfg Config) (*Controller, error) {
	if cfg.ReplicationControllers == nil {
		return nil, errors.New("replicationcontroller controller: the ReplicationController informer is required")
	}
	k := &replicationControllers{client: cfg.Client, inf: cfg.ReplicationControllers, lister: cfg.ReplicationControllers.Lister()}
	return newController(cfg, "replicationcontroller", k)
}

func newController(cfg Config, name string, k kind) (*Controller, error) {
	if cfg.Client == nil || cfg.Pods == nil {
		return nil, fmt.Errorf("%s controller: client and pod informer are required", name)
	}
	c := &Controller{
		client:   cfg.Client,
		kind:     k,
		pods:     cfg.Pods.Lister(),
		queue:    kit.NewQueue(name),
		recorder: cfg.Recorder,
		logger:   cfg.Logger,
		now:      cfg.Now,
		burst:    cfg.BurstReplicas,
	}
	if c.recorder == nil {
		c.recorder = &record.FakeRecorder{}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.burst <= 0 {
		c.burst = DefaultBurstReplicas
	}
	c.expectations = kit.NewExpectations(c.now)
	c.loop = &kit.Loop{Name: name, Queue: c.queue, Sync: c.sync, Logger: c.logger,
		Synced: []cache.InformerSynced{cfg.Pods.Informer().HasSynced, k.informer().HasSynced}}
	if _, err := k.informer().AddEventHandler(kit.Handlers(c.queue)); err != nil {
		return nil, fmt.Errorf("%s controller: adding owner handler: %w", name, err)
	}
	_, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	if err != nil {
		return nil, fmt.Errorf("%s controller: adding pod handler: %w", name, err)
	}
	return c, nil
}

// Run waits for the caches and syncs owners with workers goroutines until
// ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error {
	c.logger.Info("starting controller", "controller", c.loop.Name, "workers", workers)
	defer c.logger.Info("stopped controller", "controller", c.loop.Name)
	return c.loop.Run(ctx, workers)
}

// ownerOf returns the key of the owner that controls pod, if it is one of
// ours and still exists with the referenced UID.
func (c *Controller) ownerOf(pod *corev1.Pod, ref *metav1.OwnerReference) (string, bool) {
	gvk := c.kind.gvk()
	if ref == nil || ref.Kind != gvk.Kind || ref.APIVersion != gvk.GroupVersion().String() {
		return "", false
	}
	o, err := c.kind.get(pod.Namespace, ref.Name)
	if err != nil || o.rs.UID != ref.UID {
		return "", false
	}
	return pod.Namespace + "/" + ref.Name, true
}

// enqueueMatching queues every owner whose selector matches an orphan pod,
// so one of them adopts it.
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	owners, err := c.kind.list(pod.Namespace)
	if err != nil {
		return
	}
	set := labels.Set(pod.Labels)
	for _, o := range owners {
		sel, err := metav1.LabelSelectorAsSelector(o.rs.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(set) {
			continue
		}
		c.queue.Add(o.rs.Namespace + "/" + o.rs.Name)
	}
}

func (c *Controller) addPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen for the first time already terminating (e.g. after a restart).
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if key, ok := c.ownerOf(pod, ref); ok {
			c.expectations.CreationObserved(key)
			c.queue.Add(key)
		}
		return
	}
	c.enqueueMatching(pod)
}

func (c *Controller) updatePod(oldObj, newObj any) {
	old, ok1 := oldObj.(*corev1.Pod)
	cur, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	labelsChanged := !labels.Equals(old.Labels, cur.Labels)
	if cur.DeletionTimestamp != nil {
		// A graceful deletion starts: the pod no longer counts, so the
		// owner may replace it now rather than when it is gone.
		c.deletePod(cur)
		if labelsChanged {
			c.deletePod(old)
		}
		return
	}
	oldRef, curRef := metav1.GetControllerOfNoCopy(old), metav1.GetControllerOfNoCopy(cur)
	refChanged := !sameRef(oldRef, curRef)
	if refChanged && oldRef != nil {
		if key, ok := c.ownerOf(old, oldRef); ok {
			c.queue.Add(key)
		}
	}
	if curRef != nil {
		if key, ok := c.ownerOf(cur, curRef); ok {
			c.queue.Add(key)
		}
		return
	}
	if labelsChanged || refChanged {
		c.enqueueMatching(cur)
	}
}

func (c *Controller) deletePod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		tomb, isTomb := obj.(cache.DeletedFinalStateUnknown)
		if !isTomb {
			return
		}
		if pod, ok = tomb.Obj.(*corev1.Pod); !ok {
			return
		}
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil {
		return
	}
	key, ok := c.ownerOf(pod, ref)
	if !ok {
		return
	}
	c.expectations.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
	c.queue.Add(key)
}

func sameRef(a, b *metav1.OwnerReference) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.UID == b.UID
}
