package deployment

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

// Config is what the controller needs.
type Config struct {
	// Client writes Deployments (status, rollback) and ReplicaSets.
	Client kubernetes.Interface
	// Deployments, ReplicaSets and Pods are the shared informers. Pods
	// are watched for Recreate, which waits for old pods to be gone.
	Deployments appsinformers.DeploymentInformer
	ReplicaSets appsinformers.ReplicaSetInformer
	Pods        coreinformers.PodInformer
	// Recorder records events on Deployments; nil records nothing.
	Recorder record.EventRecorder
	// Logger receives the controller's logs; nil discards them.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Controller rolls Deployments out through ReplicaSets.
type Controller struct {
	// client writes Deployments and ReplicaSets.
	client kubernetes.Interface
	// deployments, replicaSets and pods read the shared caches.
	deployments appslisters.DeploymentLister
	replicaSets appslisters.ReplicaSetLister
	pods        corelisters.PodLister
	// loop runs the workers over the queue of Deployment keys.
	loop *kit.Loop
	// queue holds namespace/name keys of Deployments to sync.
	queue workqueue.TypedRateLimitingInterface[string]
	// recorder records events on Deployments.
	recorder record.EventRecorder
	// logger receives progress and errors.
	logger *slog.Logger
	// now is the clock.
	now func() time.Time
}

var deploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Deployments == nil || cfg.ReplicaSets == nil || cfg.Pods == nil {
		return nil, errors.New("deployment controller: client and the Deployment, ReplicaSet and Pod informers are required")
	}
	c := &Controller{
		client:      cfg.Client,
		deployments: cfg.Deployments.Lister(),
		replicaSets: cfg.ReplicaSets.Lister(),
		pods:        cfg.Pods.Lister(),
		queue:       kit.NewQueue("deployment"),
		recorder:    cfg.Recorder,
		logger:      cfg.Logger,
		now:         cfg.Now,
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
	c.loop = &kit.Loop{Name: "deployment", Queue: c.queue, Sync: c.sync, Logger: c.logger, Synced: []cache.InformerSynced{
		cfg.Deployments.Informer().HasSynced, cfg.ReplicaSets.Informer().HasSynced, cfg.Pods.Informer().HasSynced}}
	if _, err := cfg.Deployments.Informer().AddEventHandler(kit.Handlers(c.queue)); err != nil {
		return nil, fmt.Errorf("deployment controller: adding handler: %w", err)
	}
	_, err := cfg.ReplicaSets.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.onReplicaSet,
		UpdateFunc: c.updateReplicaSet,
		DeleteFunc: c.onReplicaSet,
	})
	if err != nil {
		return nil, fmt.Errorf("deployment controller: adding ReplicaSet handler: %w", err)
	}
	_, err = cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, obj any) {
			if p, ok := obj.(*corev1.Pod); ok && kit.IsPodTerminal(p) {
				c.onPod(p)
			}
		},
		DeleteFunc: c.onPod,
	})
	if err != nil {
		return nil, fmt.Errorf("deployment controller: adding pod handler: %w", err)
	}
	return c, nil
}

// Run waits for the caches and syncs Deployments with workers goroutines
// until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error {
	c.logger.Info("starting deployment controller", "workers", workers)
	defer c.logger.Info("stopped deployment controller")
	return c.loop.Run(ctx, workers)
}

// ownerOf returns the key of the Deployment controlling obj, if it exists
// with the referenced UID.
func (c *Controller) ownerOf(obj metav1.Object) (*appsv1.Deployment, bool) {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil || ref.Kind != deploymentKind.Kind || ref.APIVersion != deploymentKind.GroupVersion().String() {
		return nil, false
	}
	d, err := c.deployments.Deployments(obj.GetNamespace()).Get(ref.Name)
	if err != nil || d.UID != ref.UID {
		return nil, false
	}
	return d, true
}

func (c *Controller) enqueue(d *appsv1.Deployment) { c.queue.Add(d.Namespace + "/" + d.Name) }

// onReplicaSet queues the owner of a ReplicaSet, or for an orphan every
// Deployment that may adopt it.
func (c *Controller) onReplicaSet(obj any) {
	rs, ok := unwrap[*appsv1.ReplicaSet](obj)
	if !ok {
		return
	}
	if metav1.GetControllerOfNoCopy(rs) != nil {
		if d, ok := c.ownerOf(rs); ok {
			c.enqueue(d)
		}
		return
	}
	c.enqueueMatching(rs)
}

func (c *Controller) updateReplicaSet(oldObj, newObj any) {
	old, ok1 := oldObj.(*appsv1.ReplicaSet)
	cur, ok2 := newObj.(*appsv1.ReplicaSet)
	if !ok1 || !ok2 || old.ResourceVersion == cur.ResourceVersion {
		return
	}
	if oldRef := metav1.GetControllerOfNoCopy(old); oldRef != nil {
		if curRef := metav1.GetControllerOfNoCopy(cur); curRef == nil || curRef.UID != oldRef.UID {
			if d, ok := c.ownerOf(old); ok {
				c.enqueue(d)
			}
		}
	}
	if metav1.GetControllerOfNoCopy(cur) == nil && labels.Equals(old.Labels, cur.Labels) {
		return // an orphan whose labels did not change: nobody new to adopt it
	}
	c.onReplicaSet(cur)
}

// enqueueMatching queues the Deployments whose selector matches rs.
func (c *Controller) enqueueMatching(rs *appsv1.ReplicaSet) {
	ds, err := c.deployments.Deployments(rs.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, d := range ds {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(rs.Labels)) {
			c.enqueue(d)
		}
	}
}

// onPod queues a Recreate Deployment when one of its old pods finishes or
// goes away, since it waits for them before creating the new ReplicaSet.
func (c *Controller) onPod(obj any) {
	pod, ok := unwrap[*corev1.Pod](obj)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return
	}
	rs, err := c.replicaSets.ReplicaSets(pod.Namespace).Get(ref.Name)
	if err != nil || rs.UID != ref.UID {
		return
	}
	if d, ok := c.ownerOf(rs); ok && !isRolling(d) {
		c.enqueue(d)
	}
}

// unwrap returns obj as a T, looking inside deletion tombstones.
func unwrap[T any](obj any) (T, bool) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	t, ok := obj.(T)
	return t, ok
}
