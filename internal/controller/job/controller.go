package job

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	batchinformers "k8s.io/client-go/informers/batch/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// jobKind is the owner reference kind of the pods a Job creates.
var jobKind = batchv1.SchemeGroupVersion.WithKind("Job")

// Config is what the controller needs.
type Config struct {
	// Client creates and deletes pods, patches their finalizers and
	// writes Job status.
	Client kubernetes.Interface
	// Jobs and Pods are shared informers.
	Jobs batchinformers.JobInformer
	Pods coreinformers.PodInformer
	// Recorder records Events; nil records none.
	Recorder record.EventRecorder
	// Logger receives the controller's logs; nil discards them.
	Logger *slog.Logger
	// Clock is the time source, also for requeue delays; nil is the real
	// clock.
	Clock clock.WithTicker
	// PodFailureBackoff and MaxPodFailureBackoff shape the delay before a
	// failed pod is replaced; zero means 10 s and 6 min.
	PodFailureBackoff, MaxPodFailureBackoff time.Duration
}

// Controller runs Jobs' pods to completion.
type Controller struct {
	// client writes pods and Job status.
	client kubernetes.Interface
	// jobs and pods read the informers' caches.
	jobs batchlisters.JobLister
	pods corelisters.PodLister
	// synced are the informers' HasSynced functions.
	synced []cache.InformerSynced
	// queue holds the namespace/name keys of Jobs to sync.
	queue workqueue.TypedRateLimitingInterface[string]
	// expectations hold pod creations and deletions not yet observed.
	expectations *kit.Expectations
	// untracked holds pods whose finalizer removal is not yet observed.
	untracked *uidTracker
	// backoff holds each Job's recent pod failures.
	backoff *backoffStore
	// backoffBase and backoffMax shape the replacement delay.
	backoffBase, backoffMax time.Duration
	recorder                record.EventRecorder
	logger                  *slog.Logger
	clock                   clock.WithTicker
}

// New builds the controller and registers its informer handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Client == nil || cfg.Jobs == nil || cfg.Pods == nil {
		return nil, errors.New("job controller: client and informers are required")
	}
	c := &Controller{
		client:      cfg.Client,
		jobs:        cfg.Jobs.Lister(),
		pods:        cfg.Pods.Lister(),
		synced:      []cache.InformerSynced{cfg.Jobs.Informer().HasSynced, cfg.Pods.Informer().HasSynced},
		untracked:   newUIDTracker(),
		backoff:     newBackoffStore(),
		backoffBase: cfg.PodFailureBackoff,
		backoffMax:  cfg.MaxPodFailureBackoff,
		recorder:    cfg.Recorder,
		logger:      cfg.Logger,
		clock:       cfg.Clock,
	}
	if c.clock == nil {
		c.clock = clock.RealClock{}
	}
	if c.recorder == nil {
		c.recorder = &record.FakeRecorder{}
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.backoffBase <= 0 {
		c.backoffBase = defaultBackoff
	}
	if c.backoffMax <= 0 {
		c.backoffMax = defaultMaxBackoff
	}
	c.expectations = kit.NewExpectations(c.clock.Now)
	c.queue = workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "job", Clock: c.clock})
	if _, err := cfg.Jobs.Informer().AddEventHandler(kit.Handlers(c.queue)); err != nil {
		return nil, fmt.Errorf("job controller: adding job handler: %w", err)
	}
	_, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	})
	if err != nil {
		return nil, fmt.Errorf("job controller: adding pod handler: %w", err)
	}
	return c, nil
}

// Run syncs Jobs with workers goroutines until ctx is done.
func (c *Controller) Run(ctx context.Context, workers int) error {
	l := kit.Loop{Name: "job", Queue: c.queue, Sync: c.sync, Synced: c.synced, Logger: c.logger}
	return l.Run(ctx, workers)
}

// jobKeyOf returns the key of the Job controlling pod, or "".
func jobKeyOf(pod *corev1.Pod) string {
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != jobKind.Kind || ref.APIVersion != jobKind.GroupVersion().String() {
		return ""
	}
	return pod.Namespace + "/" + ref.Name
}

func (c *Controller) addPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if key := jobKeyOf(pod); key != "" {
		c.expectations.CreationObserved(key)
		c.queue.Add(key)
		return
	}
	c.enqueueMatching(pod)
}

func (c *Controller) updatePod(oldObj, newObj any) {
	oldPod, ok1 := oldObj.(*corev1.Pod)
	pod, ok2 := newObj.(*corev1.Pod)
	if !ok1 || !ok2 || oldPod.ResourceVersion == pod.ResourceVersion {
		return
	}
	key := jobKeyOf(pod)
	if oldKey := jobKeyOf(oldPod); oldKey != "" && oldKey != key {
		c.queue.Add(oldKey)
	}
	if key == "" {
		c.enqueueMatching(pod)
		return
	}
	if !hasTrackingFinalizer(pod) {
		c.untracked.observed(key, pod.UID)
	}
	if pod.DeletionTimestamp != nil && oldPod.DeletionTimestamp == nil {
		// A graceful deletion: the pod is as good as gone for expectations.
		c.expectations.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
	}
	c.queue.Add(key)
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
	key := jobKeyOf(pod)
	if key == "" {
		return
	}
	c.expectations.DeletionObserved(key, pod.Namespace+"/"+pod.Name)
	c.untracked.observed(key, pod.UID)
	c.queue.Add(key)
}

// enqueueMatching queues the Jobs whose selector matches an orphan pod,
// so they can adopt it.
func (c *Controller) enqueueMatching(pod *corev1.Pod) {
	if pod.DeletionTimestamp != nil || len(pod.Labels) == 0 {
		return
	}
	jobs, err := c.jobs.Jobs(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, j := range jobs {
		sel, err := metav1.LabelSelectorAsSelector(j.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(pod.Labels)) {
			c.queue.Add(j.Namespace + "/" + j.Name)
		}
	}
}
