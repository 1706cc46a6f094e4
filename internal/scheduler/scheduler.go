package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	schedlisters "k8s.io/client-go/listers/scheduling/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/scheduler/placement"
)

// DefaultSchedulerName is the schedulerName of pods this scheduler places
// unless configured otherwise (and the pods' default).
const DefaultSchedulerName = "default-scheduler"

// Config configures a Scheduler.
type Config struct {
	// Client reaches the API server (required).
	Client kubernetes.Interface
	// Placement tunes filtering and scoring (zero: upstream's defaults).
	Placement placement.Config
	// SchedulerName selects the pods to place (DefaultSchedulerName).
	SchedulerName string
	// Profiles, when set, replace Placement and SchedulerName: the pods
	// naming each profile's schedulerName are placed with its config
	// (LoadConfigFile reads them from a scheduler config file).
	Profiles []placement.Profile
	// Seed seeds tie breaking; 0 picks a random seed.
	Seed int64
	// BindWorkers bounds concurrent bind calls (default 32). The rate is
	// at most BindWorkers/bind latency; 256 wedged the embedded etcd under
	// load in the scheduler benchmark, so the default stays low.
	BindWorkers int
	// Clock drives back-off (real time by default).
	Clock clock.Clock
	// Logger receives the scheduler's logs; nil discards them.
	Logger *slog.Logger
}

// Scheduler places pending pods on nodes. Build one with New and run it with
// Run; it is good for one Run.
type Scheduler struct {
	cfg    Config
	client kubernetes.Interface
	// factory holds the informers; state the snapshot they keep current.
	factory informers.SharedInformerFactory
	state   *state
	queue   *Queue
	// classes and pdbs are listers for priorities and preemption.
	classes schedlisters.PriorityClassLister
	pdbs    policylisters.PodDisruptionBudgetLister
	// profiles by schedulerName: each one's placement config and event
	// recorder (set by Run).
	profiles map[string]*profile
	// rnd breaks ties (only the loop uses it).
	rnd *rand.Rand
	// binds tracks bind calls in the background; bindSlots bounds them.
	binds     sync.WaitGroup
	bindSlots chan struct{}
	logger    *slog.Logger
}

// New checks cfg, fills defaults and registers the informer handlers.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Client == nil {
		return nil, errors.New("scheduler: a client is required")
	}
	if cfg.SchedulerName == "" {
		cfg.SchedulerName = DefaultSchedulerName
	}
	if len(cfg.Profiles) == 0 {
		cfg.Profiles = []placement.Profile{{SchedulerName: cfg.SchedulerName, Config: cfg.Placement}}
	}
	profiles, err := newProfiles(cfg.Profiles)
	if err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	if cfg.Seed == 0 {
		cfg.Seed = time.Now().UnixNano()
	}
	if cfg.BindWorkers <= 0 {
		cfg.BindWorkers = 32
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// The scheduler never reads managed fields; dropping them roughly
	// halves the memory its pod cache takes.
	factory := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0, informers.WithTransform(stripManagedFields))
	s := &Scheduler{
		cfg:       cfg,
		client:    cfg.Client,
		factory:   factory,
		state:     newState(),
		queue:     NewQueue(cfg.Clock),
		classes:   factory.Scheduling().V1().PriorityClasses().Lister(),
		pdbs:      factory.Policy().V1().PodDisruptionBudgets().Lister(),
		profiles:  profiles,
		rnd:       rand.New(rand.NewSource(cfg.Seed)),
		bindSlots: make(chan struct{}, cfg.BindWorkers),
		logger:    cfg.Logger,
	}
	if err := s.addHandlers(); err != nil {
		return nil, err
	}
	return s, nil
}

// Run schedules until ctx ends, then waits for binds in flight.
func (s *Scheduler) Run(ctx context.Context) error {
	broadcaster := record.NewBroadcaster(record.WithContext(ctx))
	defer broadcaster.Shutdown()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: s.client.CoreV1().Events("")})
	for name, p := range s.profiles {
		p.recorder = broadcaster.NewRecorder(eventScheme(), corev1.EventSource{Component: name})
	}

	defer s.factory.Shutdown()
	s.factory.Start(ctx.Done())
	for typ, ok := range s.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("scheduler: syncing the %v informer", typ)
		}
	}
	s.logger.Info("scheduler started", "profiles", len(s.profiles))
	defer s.binds.Wait()
	for {
		qp, err := s.queue.Pop(ctx)
		if err != nil {
			return nil // ctx ended
		}
		s.scheduleOne(ctx, qp)
	}
}

// Queue returns the scheduling queue (for tests and metrics).
func (s *Scheduler) Queue() *Queue { return s.queue }

// addHandlers wires the informers to the state and the queue.
func (s *Scheduler) addHandlers() error {
	f := s.factory
	regs := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{f.Core().V1().Pods().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { s.onPod(o) },
			UpdateFunc: func(_, o any) { s.onPod(o) },
			DeleteFunc: s.onPodDelete,
		}},
		{f.Core().V1().Nodes().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { s.onNode(o) },
			UpdateFunc: s.onNodeUpdate,
			DeleteFunc: func(o any) {
				if n, ok := tombstone[*corev1.Node](o); ok {
					s.state.removeNode(n.Name)
				}
			},
		}},
		{f.Core().V1().Namespaces().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { s.state.setNamespace(o.(*corev1.Namespace)) },
			UpdateFunc: func(_, o any) { s.state.setNamespace(o.(*corev1.Namespace)) },
		}},
		{f.Core().V1().PersistentVolumes().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { s.state.setVolume(o.(*corev1.PersistentVolume)); s.queue.MoveAll() },
			UpdateFunc: func(_, o any) { s.state.setVolume(o.(*corev1.PersistentVolume)) },
		}},
		{f.Core().V1().PersistentVolumeClaims().Informer(), cache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { s.state.setClaim(o.(*corev1.PersistentVolumeClaim)); s.queue.MoveAll() },
			UpdateFunc: func(_, o any) { s.state.setClaim(o.(*corev1.PersistentVolumeClaim)); s.queue.MoveAll() },
		}},
	}
	for _, r := range regs {
		if _, err := r.inf.AddEventHandler(r.h); err != nil {
			return fmt.Errorf("scheduler: adding an informer handler: %w", err)
		}
	}
	// Listers only; touching them registers the informers with the factory.
	f.Scheduling().V1().PriorityClasses().Informer()
	f.Policy().V1().PodDisruptionBudgets().Informer()
	return nil
}

// onPod routes a pod: bound pods to the snapshot, our pending pods to the
// queue.
func (s *Scheduler) onPod(o any) {
	pod, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	switch {
	case pod.Spec.NodeName != "":
		s.queue.Delete(pod.Namespace, pod.Name)
		s.state.setPod(s.withPriority(pod))
		if terminal(pod) {
			s.queue.MoveAll() // its resources are free
		}
	case s.state.isAssumed(pod):
		// A stale pending version of a pod being bound.
	case s.profiles[pod.Spec.SchedulerName] != nil && !terminal(pod) && pod.DeletionTimestamp == nil:
		pod = s.withPriority(pod)
		if n := pod.Status.NominatedNodeName; n != "" {
			s.state.nominate(pod, n) // after a restart, or our own patch
		}
		s.queue.Add(pod)
	default:
		s.queue.Delete(pod.Namespace, pod.Name)
	}
}

func (s *Scheduler) onPodDelete(o any) {
	pod, ok := tombstone[*corev1.Pod](o)
	if !ok {
		return
	}
	s.queue.Delete(pod.Namespace, pod.Name)
	s.state.removePod(pod) // bound, or assumed and still binding
	if pod.Spec.NodeName != "" {
		s.queue.MoveAll()
	}
}

func (s *Scheduler) onNode(o any) {
	if n, ok := o.(*corev1.Node); ok {
		s.state.setNode(n)
		s.queue.MoveAll()
	}
}

// onNodeUpdate skips heartbeat-only updates, which cannot make a pod fit.
func (s *Scheduler) onNodeUpdate(old, cur any) {
	o, ok1 := old.(*corev1.Node)
	n, ok2 := cur.(*corev1.Node)
	if !ok1 || !ok2 {
		return
	}
	s.state.setNode(n)
	if nodeSchedulingChanged(o, n) {
		s.queue.MoveAll()
	}
}

// withPriority resolves the pod's priority from the PriorityClasses.
func (s *Scheduler) withPriority(pod *corev1.Pod) *corev1.Pod {
	if pod.Spec.Priority != nil {
		return pod
	}
	classes, _ := s.classes.List(everything())
	return resolvePriority(pod, classes)
}

// tombstone unwraps a deleted object.
func tombstone[T any](o any) (T, bool) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	t, ok := o.(T)
	return t, ok
}

// bindTimeout bounds one binding call.
const bindTimeout = 30 * time.Second

// stripManagedFields drops managedFields from objects entering the
// informer caches: the scheduler never reads them.
func stripManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
