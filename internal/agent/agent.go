package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Config is everything an Agent needs.
type Config struct {
	// NodeName names the Node, its Lease and the pods it runs.
	NodeName string
	// Client reaches the API server. Several agents may share one.
	Client kubernetes.Interface
	// Runtime runs the containers.
	Runtime runtime.Runtime
	// Clock tells the time; nil is the real clock.
	Clock clock.WithTicker
	// Capacity is the node's capacity (and allocatable); cpu 1, memory
	// 1Gi, pods 110 and ephemeral-storage 10Gi when missing.
	Capacity corev1.ResourceList
	// Labels and Annotations are added to the Node's. The standard
	// kubernetes.io/hostname, os and arch labels are always set.
	Labels      map[string]string
	Annotations map[string]string
	// Taints are the node's taints at registration.
	Taints []corev1.Taint
	// NodeIP is the node's InternalIP and the pods' hostIP.
	NodeIP string
	// NodeInfo overrides the reported system info; the runtime version is
	// always filled in from the runtime.
	NodeInfo corev1.NodeSystemInfo
	// KubeletPort is the advertised agent endpoint port (10250).
	KubeletPort int32
	// LeaseDuration is the Lease's duration (40 s); it is renewed every
	// LeaseRenewInterval (10 s).
	LeaseDuration      time.Duration
	LeaseRenewInterval time.Duration
	// StatusReportInterval is how often node status is written when
	// nothing changed (5 min).
	StatusReportInterval time.Duration
	// SyncPeriod is how often the runtime is relisted while pods exist,
	// unless it reports its own changes (runtime.ChangeNotifier); 1 s.
	SyncPeriod time.Duration
	// BackoffInitial and BackoffMax bound the crash-loop back-off
	// (10 s, 5 min).
	BackoffInitial time.Duration
	BackoffMax     time.Duration
	// DataDir holds the pods' volumes (<DataDir>/pods/<uid>/volumes/...)
	// and logs (<DataDir>/logs/<namespace>_<name>_<uid>/...);
	// DefaultDataDir when empty. Nothing is written there for pods
	// without volumes. When set, it must belong to this agent alone: at
	// start the agent removes what it finds there of pods that are not
	// its own (when empty, several agents may share the default).
	DataDir string
	// ClusterDNS are the cluster DNS server addresses pods with the
	// ClusterFirst policy use; with none, they fall back to Default.
	ClusterDNS []string
	// ClusterDomain is the cluster's DNS domain (cluster.local).
	ClusterDomain string
	// ResolvConf is the node's resolv.conf, for the Default DNS policy
	// (/etc/resolv.conf); it is read once, when first needed.
	ResolvConf string
	// ManifestDir holds static pod manifests (upstream's
	// staticPodPath): one pod per file, in YAML or JSON, or several as
	// YAML documents or a PodList. ManifestURL serves such a manifest.
	// Both are read every ManifestCheckInterval (20 s). Static pods run
	// without the API server; when it is there each shows as a mirror
	// pod.
	ManifestDir           string
	ManifestURL           string
	ManifestCheckInterval time.Duration
	// Stats measures the node for the pressure conditions and eviction;
	// nil turns both off (hollow nodes). NewHostStats measures the host.
	Stats StatsSource
	// EvictionHard are the hard eviction thresholds; nil means
	// DefaultEvictionHard(), an empty slice none.
	EvictionHard []Threshold
	// EvictionMonitoringInterval is how often the node is measured
	// (10 s); EvictionPressureTransitionPeriod how long a pressure
	// condition stays after its signal recovers (5 min).
	EvictionMonitoringInterval       time.Duration
	EvictionPressureTransitionPeriod time.Duration
	// GCPolicy says which dead containers and unused images garbage
	// collection removes; zero fields take DefaultGCPolicy's values (a
	// negative MaxPerPodContainer or age means 0). GCPeriod is how often
	// it runs (1 min); it also runs, removing every unused image, before
	// pods are evicted for disk pressure. Image GC needs Stats.
	GCPolicy GCPolicy
	GCPeriod time.Duration
	// PinnedImages are image names garbage collection never removes
	// (the sandbox image, when the runtime does not pin it itself).
	PinnedImages []string
	// DisableEvents turns off the Events the agent writes about pods
	// (Pulling, Started, Killing, ...).
	DisableEvents bool
	// Logger receives the agent's logs; nil discards them.
	Logger *slog.Logger
}

// DefaultDataDir is the agent's data directory when Config.DataDir is
// empty.
const DefaultDataDir = "/var/lib/skiff/agent"

// heartbeatTimeout bounds the API calls of one heartbeat.
const heartbeatTimeout = 10 * time.Second

// DefaultClusterDomain is the cluster's DNS domain when
// Config.ClusterDomain is empty.
const DefaultClusterDomain = "cluster.local"

// Agent is one node's agent. Create it with New and call Run once.
type Agent struct {
	cfg  Config
	opts Options
	// wake is signalled (without blocking) when pods change.
	wake chan struct{}
	// store holds the pods bound to the node, fed by the informer.
	store    cache.Store
	informer cache.Controller

	// The rest is owned by the Run goroutine.
	node       *corev1.Node
	lease      *coordinationv1.Lease
	version    runtime.VersionInfo
	lastStatus corev1.NodeStatus
	lastReport time.Time
	nextLease  time.Time
	// podStatus is the status last written per pod, so a stale informer
	// does not cause a second write.
	podStatus map[types.UID]*corev1.PodStatus
	// startErrs are the last start errors per pod and container.
	startErrs map[types.UID]map[string]StartError
	// deleting are pods whose final delete was sent.
	deleting map[types.UID]bool
	// volumes are the host paths of each set-up pod's volumes by name;
	// volumesAt is when they were last written (API-backed volumes are
	// refreshed every volumeResync).
	volumes   map[types.UID]map[string]string
	volumesAt map[types.UID]time.Time
	// svcCache holds Services per namespace for link variables.
	svcCache map[string]serviceList
	// hostDNS is the node's resolv.conf, read when first needed.
	hostDNS     *runtime.DNSConfig
	hostDNSRead bool
	// ownDir says the data directory is this agent's alone: only then
	// does it write termination message files. podDirs are the pods
	// given a directory for them; termMessages the termination
	// messages read, by container ID.
	ownDir       bool
	podDirs      map[types.UID]bool
	termMessages map[string]string
	// scanned is set once leftover pod directories were looked at;
	// leftovers are the pods found there that may need removing.
	scanned   bool
	leftovers map[types.UID]bool

	// static are the static pods by UID; staticSrc reads them (nil
	// without manifests); staticReady says every source was read once.
	static      map[types.UID]*staticPodState
	staticSrc   *staticSource
	staticReady bool

	// pressure is the node's pressure and the pods evicted.
	pressure pressureState
	// gc is what garbage collection remembers of images; pinned are the
	// image names it keeps (normalised too).
	gc     gcState
	pinned map[string]bool
	// pulls holds back image pulls that failed.
	pulls pullBackoff
	// failedStarts are the containers (<uid>/<name>) and sandboxes
	// (<uid>/) whose start failed during the current sync; they are not
	// tried again in it.
	failedStarts map[string]bool

	// bg counts the background goroutines (events, probes, hooks,
	// stops) started under runCtx; Run waits for them.
	bg     sync.WaitGroup
	runCtx context.Context
	events *recorder
	probes *prober
	// mu guards stopping: containers being stopped in the background.
	mu       sync.Mutex
	stopping map[string]bool
}

// New checks the config, fills defaults and returns an agent.
func New(cfg Config) (*Agent, error) {
	if cfg.NodeName == "" || cfg.Client == nil || cfg.Runtime == nil {
		return nil, errors.New("agent: NodeName, Client and Runtime are required")
	}
	ownDir := cfg.DataDir != ""
	cfg = cfg.withDefaults()
	a := &Agent{
		scanned:      !ownDir,
		cfg:          cfg,
		wake:         make(chan struct{}, 1),
		podStatus:    map[types.UID]*corev1.PodStatus{},
		startErrs:    map[types.UID]map[string]StartError{},
		deleting:     map[types.UID]bool{},
		volumes:      map[types.UID]map[string]string{},
		volumesAt:    map[types.UID]time.Time{},
		svcCache:     map[string]serviceList{},
		stopping:     map[string]bool{},
		failedStarts: map[string]bool{},
		ownDir:       ownDir,
		podDirs:      map[types.UID]bool{},
		termMessages: map[string]string{},
		pressure:     pressureState{lastSeen: map[corev1.NodeConditionType]time.Time{}, evicted: map[types.UID]string{}},
		static:       map[types.UID]*staticPodState{},
		gc:           gcState{images: map[string]*imageUse{}},
		pinned:       map[string]bool{},
	}
	for _, name := range cfg.PinnedImages {
		a.pinned[name], a.pinned[normalizeImage(name)] = true, true
	}
	a.staticSrc = newStaticSource(cfg, a.signal)
	a.staticReady = a.staticSrc == nil
	if !cfg.DisableEvents {
		a.events = &recorder{client: cfg.Client, node: cfg.NodeName, clock: cfg.Clock, log: cfg.Logger, seen: map[types.UID]map[string]*seenEvent{}}
	}
	a.probes = newProber(a)
	a.opts = Options{BackoffInitial: cfg.BackoffInitial, BackoffMax: cfg.BackoffMax, HostIP: cfg.NodeIP}.withDefaults()
	a.pulls = pullBackoff{initial: a.opts.BackoffInitial, max: a.opts.BackoffMax}
	a.store, a.informer = newPodInformer(cfg.Client, cfg.NodeName, a.signal)
	return a, nil
}

func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	defaults := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("1"),
		corev1.ResourceMemory:           resource.MustParse("1Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("10Gi"),
	}
	capacity := c.Capacity.DeepCopy()
	if capacity == nil {
		capacity = corev1.ResourceList{}
	}
	for k, v := range defaults {
		if _, ok := capacity[k]; !ok {
			capacity[k] = v
		}
	}
	c.Capacity = capacity
	setDuration(&c.LeaseDuration, 40*time.Second)
	setDuration(&c.LeaseRenewInterval, 10*time.Second)
	setDuration(&c.StatusReportInterval, 5*time.Minute)
	setDuration(&c.SyncPeriod, time.Second)
	setDuration(&c.ManifestCheckInterval, 20*time.Second)
	setDuration(&c.EvictionMonitoringInterval, 10*time.Second)
	setDuration(&c.EvictionPressureTransitionPeriod, 5*time.Minute)
	setDuration(&c.GCPeriod, time.Minute)
	c.GCPolicy = c.GCPolicy.withDefaults()
	if c.EvictionHard == nil {
		c.EvictionHard = DefaultEvictionHard()
	}
	if c.KubeletPort == 0 {
		c.KubeletPort = 10250
	}
	if c.NodeInfo.OperatingSystem == "" {
		c.NodeInfo.OperatingSystem = goruntime.GOOS
	}
	if c.NodeInfo.Architecture == "" {
		c.NodeInfo.Architecture = goruntime.GOARCH
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = DefaultClusterDomain
	}
	if c.ResolvConf == "" {
		c.ResolvConf = "/etc/resolv.conf"
	}
	return c
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// signal wakes the loop without blocking.
func (a *Agent) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run registers the node and runs until ctx ends. Errors talking to the
// API are logged and retried; only a cancelled context ends Run.
func (a *Agent) Run(ctx context.Context) error {
	log := a.cfg.Logger.With("node", a.cfg.NodeName)
	v, err := a.cfg.Runtime.Version(ctx)
	if err != nil {
		return fmt.Errorf("agent %s: runtime version: %w", a.cfg.NodeName, err)
	}
	a.version = v
	a.opts.RuntimeName = v.RuntimeName

	var wg sync.WaitGroup
	defer wg.Wait()
	defer a.bg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	a.runCtx = ctx
	a.events.start(ctx, &a.bg)
	wg.Add(1)
	go func() {
		defer wg.Done()
		a.informer.RunWithContext(ctx)
	}()
	if a.staticSrc != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.staticSrc.run(ctx)
		}()
	}

	timer := a.cfg.Clock.NewTimer(0)
	defer timer.Stop()
	synced := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-a.wake:
		case <-timer.C():
		}
		now := a.cfg.Clock.Now()
		next := a.heartbeat(ctx, now, log)
		if !synced {
			synced = a.informer.HasSynced()
		}
		// Static pods run whether or not the API server answers.
		apiKnown := synced && a.node != nil
		a.updateStatic(now)
		if apiKnown || len(a.static) > 0 || !a.staticReady {
			next = earliest(next, a.syncPods(ctx, apiKnown, log))
		}
		if !apiKnown {
			next = earliest(next, now.Add(200*time.Millisecond))
		}
		if !timer.Stop() {
			select {
			case <-timer.C():
			default:
			}
		}
		timer.Reset(max(next.Sub(a.cfg.Clock.Now()), time.Millisecond))
	}
}

// heartbeat registers the node if needed, renews the lease and reports
// node status when due; it returns when it next wants to run.
func (a *Agent) heartbeat(ctx context.Context, now time.Time, log *slog.Logger) time.Time {
	// An unreachable API server must not hold up the static pods.
	ctx, cancel := context.WithTimeout(ctx, heartbeatTimeout)
	defer cancel()
	if a.node == nil {
		if err := a.register(ctx, now); err != nil {
			warn(ctx, log, "registering node", "err", err)
			return now.Add(time.Second)
		}
		log.Debug("node registered")
	}
	if now.Before(a.nextLease) {
		return a.nextLease
	}
	if err := a.renewLease(ctx, now); err != nil {
		warn(ctx, log, "renewing lease", "err", err)
		a.lease = nil
		a.nextLease = now.Add(time.Second)
		return a.nextLease
	}
	if err := a.reportStatus(ctx, now); err != nil {
		warn(ctx, log, "reporting node status", "err", err)
	}
	a.nextLease = now.Add(a.cfg.LeaseRenewInterval)
	return a.nextLease
}

// warn logs a failure unless the agent is stopping (requests cut short by
// shutdown are not news).
func warn(ctx context.Context, log *slog.Logger, msg string, args ...any) {
	if ctx.Err() == nil {
		log.Warn(msg, args...)
	}
}
