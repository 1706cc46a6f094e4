package fake

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Name and Version are what Version reports.
const (
	Name    = "fake"
	Version = "0.1.0"
)

// Config configures a fake runtime.
type Config struct {
	// Clock tells the time; nil is the real clock.
	Clock clock.PassiveClock
	// PodCIDR is where sandbox IPs come from; the zero prefix means
	// 10.244.0.0/24.
	PodCIDR netip.Prefix
}

// Runtime is the in-memory runtime. The zero value is not usable; call New.
type Runtime struct {
	clock   clock.PassiveClock
	podCIDR netip.Prefix

	mu         sync.Mutex
	nextID     uint64
	nextIP     uint32
	sandboxes  map[string]*sandbox
	containers map[string]*container
	images     map[string]string // name -> ref
	// imageSizes are the sizes set by AddImage, by ref (default
	// defaultImageSize).
	imageSizes map[string]uint64
}

type sandbox struct {
	runtime.PodSandbox
	ip string
}

type container struct {
	runtime.Container
	b         behaviour
	startedAt time.Time
	// stopAt is when a stop request ends the container (zero: none).
	stopAt   time.Time
	stopCode int32
}

var _ runtime.Runtime = (*Runtime)(nil)

// New returns an empty fake runtime.
func New(cfg Config) *Runtime {
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if !cfg.PodCIDR.IsValid() {
		cfg.PodCIDR = netip.MustParsePrefix("10.244.0.0/24")
	}
	return &Runtime{
		clock:      cfg.Clock,
		podCIDR:    cfg.PodCIDR.Masked(),
		sandboxes:  map[string]*sandbox{},
		containers: map[string]*container{},
		images:     map[string]string{},
		imageSizes: map[string]uint64{},
	}
}

// Version implements runtime.Runtime.
func (r *Runtime) Version(context.Context) (runtime.VersionInfo, error) {
	return runtime.VersionInfo{RuntimeName: Name, RuntimeVersion: Version, RuntimeAPIVersion: "v1"}, nil
}

func (r *Runtime) newID() string {
	r.nextID++
	return strconv.FormatUint(r.nextID, 16)
}

// allocIP returns the next address of the pod CIDR, skipping the network
// and gateway addresses, wrapping around at the end.
func (r *Runtime) allocIP() string {
	base := r.podCIDR.Addr()
	if !base.Is4() {
		return ""
	}
	size := uint32(1) << (32 - r.podCIDR.Bits())
	if size < 4 {
		return base.String()
	}
	off := 2 + r.nextIP%(size-3)
	r.nextIP++
	b := base.As4()
	n := binary.BigEndian.Uint32(b[:]) + off
	binary.BigEndian.PutUint32(b[:], n)
	return netip.AddrFrom4(b).String()
}

// RunPodSandbox implements runtime.Runtime.
func (r *Runtime) RunPodSandbox(_ context.Context, cfg *runtime.PodSandboxConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := &sandbox{PodSandbox: runtime.PodSandbox{
		ID:          "sb-" + r.newID(),
		Metadata:    cfg.Metadata,
		State:       runtime.SandboxReady,
		CreatedAt:   r.clock.Now(),
		Labels:      maps.Clone(cfg.Labels),
		Annotations: maps.Clone(cfg.Annotations),
	}}
	if !cfg.HostNetwork {
		s.ip = r.allocIP()
	}
	r.sandboxes[s.ID] = s
	return s.ID, nil
}

// StopPodSandbox implements runtime.Runtime: its containers are killed.
func (r *Runtime) StopPodSandbox(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sandboxes[id]
	if !ok {
		return fmt.Errorf("sandbox %s: %w", id, runtime.ErrNotFound)
	}
	now := r.clock.Now()
	for _, c := range r.containers {
		if c.PodSandboxID == id {
			r.kill(c, now, 0)
		}
	}
	s.State = runtime.SandboxNotReady
	return nil
}

// RemovePodSandbox implements runtime.Runtime.
func (r *Runtime) RemovePodSandbox(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.sandboxes[id]; !ok {
		return nil
	}
	for cid, c := range r.containers {
		if c.PodSandboxID == id {
			delete(r.containers, cid)
		}
	}
	delete(r.sandboxes, id)
	return nil
}

// ListPodSandbox implements runtime.Runtime.
func (r *Runtime) ListPodSandbox(context.Context) ([]*runtime.PodSandbox, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*runtime.PodSandbox, 0, len(r.sandboxes))
	for _, s := range r.sandboxes {
		c := s.PodSandbox
		out = append(out, &c)
	}
	return out, nil
}

// PodSandboxStatus implements runtime.Runtime.
func (r *Runtime) PodSandboxStatus(_ context.Context, id string) (*runtime.PodSandboxStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sandboxes[id]
	if !ok {
		return nil, fmt.Errorf("sandbox %s: %w", id, runtime.ErrNotFound)
	}
	return &runtime.PodSandboxStatus{PodSandbox: s.PodSandbox, IP: s.ip}, nil
}

// PullImage implements runtime.Runtime.
func (r *Runtime) PullImage(_ context.Context, image string) (string, error) {
	if strings.Contains(image, ".invalid/") {
		return "", fmt.Errorf("pulling image %q: pull access denied, repository does not exist", image)
	}
	sum := sha256.Sum256([]byte(image))
	ref := "sha256:" + hex.EncodeToString(sum[:])
	r.mu.Lock()
	r.images[image] = ref
	r.mu.Unlock()
	return ref, nil
}

// ImageStatus implements runtime.Runtime.
func (r *Runtime) ImageStatus(_ context.Context, image string) (*runtime.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ref, ok := r.images[image]
	if !ok {
		return nil, nil
	}
	return r.imageLocked(ref), nil
}
