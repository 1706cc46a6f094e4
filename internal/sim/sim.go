package sim

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/agent"
	"github.com/skiffkube/skiff/internal/runtime/fake"
)

// Labels and annotations of hollow nodes.
const (
	// LabelHollow (label and annotation, value "true") marks a hollow node.
	LabelHollow = "skiff.io/hollow"
	LabelZone   = "topology.kubernetes.io/zone"
	LabelRegion = "topology.kubernetes.io/region"
)

// Config describes a set of hollow nodes.
type Config struct {
	// Nodes is how many hollow nodes to run.
	Nodes int
	// NamePrefix is prepended to the node index ("hollow-" by default):
	// hollow-0, hollow-1, ...
	NamePrefix string
	// REST reaches the API server; its QPS and Burst are raised for the
	// node count when lower.
	REST *rest.Config
	// Capacity of every node (cpu 4, memory 16Gi, pods 110 by default).
	Capacity corev1.ResourceList
	// Zones the nodes are spread over, round robin (zone-a..zone-c).
	Zones []string
	// StartInterval separates node starts (5 ms).
	StartInterval time.Duration
	// Agent tunes every agent: clock, lease and status intervals,
	// back-off. NodeName, Client, Runtime, Capacity, Labels, Annotations
	// and NodeIP are set by the simulator.
	Agent agent.Config
	// Logger receives the simulator's logs; nil discards them.
	Logger *slog.Logger
}

// Sim is a running set of hollow nodes.
type Sim struct {
	cfg     Config
	started atomic.Int64
}

// New checks the config and fills defaults.
func New(cfg Config) (*Sim, error) {
	if cfg.Nodes <= 0 || cfg.REST == nil {
		return nil, errors.New("sim: a node count and a REST config are required")
	}
	if cfg.NamePrefix == "" {
		cfg.NamePrefix = "hollow-"
	}
	if len(cfg.Zones) == 0 {
		cfg.Zones = []string{"zone-a", "zone-b", "zone-c"}
	}
	if cfg.StartInterval <= 0 {
		cfg.StartInterval = 5 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Agent.Clock == nil {
		cfg.Agent.Clock = clock.RealClock{}
	}
	return &Sim{cfg: cfg}, nil
}

// Started is how many agents have been started so far.
func (s *Sim) Started() int { return int(s.started.Load()) }

// NodeName is the name of hollow node i.
func (s *Sim) NodeName(i int) string { return fmt.Sprintf("%s%d", s.cfg.NamePrefix, i) }

// Run starts the agents, staggered, and returns when ctx ends and every
// agent has stopped.
func (s *Sim) Run(ctx context.Context) error {
	client, err := s.client()
	if err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	defer wg.Wait()
	for i := 0; i < s.cfg.Nodes; i++ {
		a, err := s.newAgent(i, client)
		if err != nil {
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.Run(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
		s.started.Add(1)
		select {
		case <-ctx.Done():
			return nil
		case <-s.cfg.Agent.Clock.After(s.cfg.StartInterval):
		}
	}
	s.cfg.Logger.Info("all hollow nodes started", "nodes", s.cfg.Nodes)
	<-ctx.Done()
	wg.Wait()
	return errors.Join(errs...)
}

// client is the one client every agent shares.
func (s *Sim) client() (kubernetes.Interface, error) {
	rc := rest.CopyConfig(s.cfg.REST)
	qps := float32(50 + s.cfg.Nodes/2)
	if rc.QPS < qps {
		rc.QPS = qps
	}
	if rc.Burst < int(2*qps) {
		rc.Burst = int(2 * qps)
	}
	if rc.UserAgent == "" {
		rc.UserAgent = "skiff-sim"
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, fmt.Errorf("sim: client: %w", err)
	}
	return cs, nil
}

func (s *Sim) newAgent(i int, client kubernetes.Interface) (*agent.Agent, error) {
	cfg := s.cfg.Agent
	cfg.NodeName = s.NodeName(i)
	cfg.Client = client
	cfg.Runtime = fake.New(fake.Config{Clock: cfg.Clock, PodCIDR: podCIDR(i)})
	cfg.Capacity = s.capacity()
	cfg.NodeIP = nodeIP(i).String()
	zone := s.cfg.Zones[i%len(s.cfg.Zones)]
	cfg.Labels = map[string]string{
		agent.LabelOS:                      "linux",
		LabelZone:                          zone,
		LabelRegion:                        "sim",
		LabelHollow:                        "true",
		"node.kubernetes.io/instance-type": "hollow",
	}
	cfg.Annotations = map[string]string{LabelHollow: "true"}
	cfg.Logger = s.cfg.Logger
	a, err := agent.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("sim: node %d: %w", i, err)
	}
	return a, nil
}

func (s *Sim) capacity() corev1.ResourceList {
	c := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("4"),
		corev1.ResourceMemory:           resource.MustParse("16Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	for k, v := range s.cfg.Capacity {
		c[k] = v
	}
	return c
}

// nodeIP is hollow node i's address in 10.64.0.0/10.
func nodeIP(i int) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], 10<<24|64<<16+uint32(i)+1)
	return netip.AddrFrom4(b)
}

// podCIDR is hollow node i's /24 in 10.128.0.0/9.
func podCIDR(i int) netip.Prefix {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], 10<<24|128<<16+uint32(i%32768)<<8)
	return netip.PrefixFrom(netip.AddrFrom4(b), 24)
}
