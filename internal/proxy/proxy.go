package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// Proxy keeps the node's service rules in step with the API. Build one
// with New and run it with Run; it is good for one Run.
type Proxy struct {
	cfg Config
	cmd commander
	// factory holds the Service and EndpointSlice informers.
	factory  informers.SharedInformerFactory
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister
	// dirty receives a token when an object changed (capacity one).
	dirty chan struct{}
	// computer and applied belong to the sync loop: the incremental rule
	// computation and the rule set the kernel holds (nil when unknown).
	computer rules.Computer
	applied  *rules.RuleSet
	applier  applier
	warnings []string
	metrics  *metrics
	logger   *slog.Logger

	// ready is closed after the first successful sync.
	ready     chan struct{}
	readyOnce sync.Once
	// mu guards mode, which Run sets.
	mu   sync.Mutex
	mode Mode
}

// New checks cfg, fills in defaults and registers the informer handlers
// and metrics. Nothing touches the kernel before Run.
func New(cfg Config) (*Proxy, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	factory := informers.NewSharedInformerFactoryWithOptions(cfg.Client, 0,
		informers.WithTransform(dropManagedFields))
	p := &Proxy{
		cfg:      cfg,
		cmd:      commander{netns: cfg.NetworkNamespace},
		factory:  factory,
		services: factory.Core().V1().Services().Lister(),
		slices:   factory.Discovery().V1().EndpointSlices().Lister(),
		dirty:    make(chan struct{}, 1),
		metrics:  m,
		logger:   cfg.Logger,
		ready:    make(chan struct{}),
	}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { p.markDirty() },
		UpdateFunc: func(any, any) { p.markDirty() },
		DeleteFunc: func(any) { p.markDirty() },
	}
	for _, inf := range []cache.SharedIndexInformer{
		factory.Core().V1().Services().Informer(),
		factory.Discovery().V1().EndpointSlices().Informer(),
	} {
		if _, err := inf.AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("proxy: registering handlers: %w", err)
		}
	}
	return p, nil
}

// Ready is closed once the rules have been programmed for the first time.
func (p *Proxy) Ready() <-chan struct{} { return p.ready }

// Mode is the mode in use, known once Run has started ("" before).
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

func (p *Proxy) markDirty() {
	select {
	case p.dirty <- struct{}{}:
	default:
	}
}

// Run programs the rules until ctx ends. The rules stay in the kernel
// afterwards, so that traffic keeps flowing across a restart; Cleanup
// removes them.
func (p *Proxy) Run(ctx context.Context) error {
	if p.applier == nil { // tests set their own
		if err := p.prepareKernel(ctx); err != nil {
			return err
		}
	}
	defer p.factory.Shutdown()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before Shutdown, which waits for the informers to stop
	p.factory.Start(ctx.Done())
	for typ, ok := range p.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("proxy: %v informer did not sync", typ)
		}
	}
	return p.loop(ctx)
}

// prepareKernel picks the mode and its applier, sets the sysctls and
// removes what the other mode may have left.
func (p *Proxy) prepareKernel(ctx context.Context) error {
	mode, err := resolveMode(ctx, p.cfg.Mode, p.cmd)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	p.mu.Lock()
	p.mode = mode
	p.mu.Unlock()
	p.applier = newApplier(mode, p.cmd)
	p.logger.Info("service proxy starting", "mode", mode, "node", p.cfg.NodeName)
	if p.cfg.ManageSysctls {
		p.setSysctls(ctx)
	}
	other := ModeIPTables
	if mode == ModeIPTables {
		other = ModeNFTables
	}
	if err := cleanup(ctx, other, p.cmd); err != nil {
		p.logger.Warn("removing rules of the other proxy mode", "mode", other, "err", err)
	}
	return nil
}

// loop syncs whenever something changed, at most once per MinSyncPeriod,
// and reloads everything every SyncPeriod. A failed sync is retried with
// back-off, as a full one.
func (p *Proxy) loop(ctx context.Context) error {
	resync := time.NewTicker(p.cfg.SyncPeriod)
	defer resync.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	pending, full := true, true
	var next time.Time // earliest start of the next sync
	backoff := time.Duration(0)
	for {
		var wake <-chan time.Time
		if pending {
			if wait := time.Until(next); wait > 0 {
				timer.Reset(wait)
				wake = timer.C
			} else {
				err := p.sync(ctx, full)
				switch {
				case ctx.Err() != nil:
					return nil
				case err != nil:
					backoff = min(max(2*backoff, time.Second, p.cfg.MinSyncPeriod), 30*time.Second)
					p.logger.Error("syncing service rules", "err", err, "retry", backoff)
					pending, full, next = true, true, time.Now().Add(backoff)
				default:
					backoff = 0
					pending, full, next = false, false, time.Now().Add(p.cfg.MinSyncPeriod)
				}
				continue
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.dirty:
			pending = true
		case <-resync.C:
			pending, full = true, true
		case <-wake:
		}
	}
}

// sync computes the rule set from the caches and programs it: the whole
// table when full, else the difference from what was applied.
func (p *Proxy) sync(ctx context.Context, full bool) error {
	start := time.Now()
	svcs, err := p.services.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing services: %w", err)
	}
	eps, err := p.slices.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing endpoint slices: %w", err)
	}
	rs := p.computer.Compute(rules.Input{
		NodeName: p.cfg.NodeName, NodeIPs: p.cfg.NodeIPs, ClusterCIDR: p.cfg.ClusterCIDR,
		Services: svcs, Slices: eps, EndpointChains: p.endpointChains(),
	})
	old := p.applied
	if full {
		old = nil
	}
	err = p.applier.apply(ctx, old, rs)
	p.metrics.observe(old == nil, time.Since(start), err)
	if err != nil {
		p.applied = nil
		return err
	}
	p.applied = rs
	p.metrics.count(rs)
	p.logWarnings(rs.Warnings)
	p.readyOnce.Do(func() { close(p.ready) })
	p.logger.Debug("synced service rules", "full", old == nil, "services", len(svcs), "took", time.Since(start))
	return nil
}

// logWarnings logs the rule set's warnings when they change.
func (p *Proxy) logWarnings(w []string) {
	if slices.Equal(w, p.warnings) {
		return
	}
	p.warnings = w
	for _, msg := range w {
		p.logger.Warn("service rules: input ignored", "reason", msg)
	}
}

// setSysctls makes bridged pod traffic pass the rules: without it, a
// reply from a backend on the client's own bridge skips the reverse NAT.
// Failures are logged: a node without bridges needs none of this.
func (p *Proxy) setSysctls(ctx context.Context) {
	const path = "/proc/sys/net/bridge/bridge-nf-call-iptables"
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, err := p.cmd.run(ctx, "", "modprobe", "br_netfilter"); err != nil {
			p.logger.Warn("loading br_netfilter", "err", err)
			return
		}
	}
	if err := os.WriteFile(path, []byte("1"), 0o644); err != nil {
		p.logger.Warn("enabling bridge netfilter", "err", err)
	}
}

// endpointChains reports whether the applier needs the rule layout with
// one chain per endpoint (the iptables translation does).
func (p *Proxy) endpointChains() bool {
	_, ipt := p.applier.(*iptApplier)
	return ipt
}
