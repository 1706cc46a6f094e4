package agent

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
)

// Signal names a measured resource, as upstream's eviction signals do.
type Signal string

// The signals the agent measures.
const (
	SignalMemoryAvailable  Signal = "memory.available"
	SignalNodeFSAvailable  Signal = "nodefs.available"
	SignalImageFSAvailable Signal = "imagefs.available"
	SignalPIDAvailable     Signal = "pid.available"
)

// Threshold is a hard eviction threshold: the node is under pressure
// while the signal's available amount is below Quantity, or below
// Percent (0-100) of its capacity.
type Threshold struct {
	Signal   Signal
	Quantity *resource.Quantity
	Percent  float64
}

// DefaultEvictionHard returns upstream's default hard thresholds:
// memory.available<100Mi, nodefs.available<10%, imagefs.available<15%.
func DefaultEvictionHard() []Threshold {
	q := resource.MustParse("100Mi")
	return []Threshold{
		{Signal: SignalMemoryAvailable, Quantity: &q},
		{Signal: SignalNodeFSAvailable, Percent: 10},
		{Signal: SignalImageFSAvailable, Percent: 15},
	}
}

// ParseEvictionHard parses thresholds written as upstream's
// --eviction-hard: "memory.available<100Mi,nodefs.available<10%".
func ParseEvictionHard(s string) ([]Threshold, error) {
	out := []Threshold{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "<")
		if !ok {
			return nil, fmt.Errorf("eviction threshold %q: want <signal><<quantity or percentage>", part)
		}
		sig := Signal(strings.TrimSpace(name))
		switch sig {
		case SignalMemoryAvailable, SignalNodeFSAvailable, SignalImageFSAvailable, SignalPIDAvailable:
		default:
			return nil, fmt.Errorf("eviction threshold %q: unknown signal %q", part, sig)
		}
		value = strings.TrimSpace(value)
		if p, ok := strings.CutSuffix(value, "%"); ok {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil || f < 0 || f > 100 {
				return nil, fmt.Errorf("eviction threshold %q: bad percentage", part)
			}
			out = append(out, Threshold{Signal: sig, Percent: f})
			continue
		}
		q, err := resource.ParseQuantity(value)
		if err != nil || q.Sign() < 0 {
			return nil, fmt.Errorf("eviction threshold %q: bad quantity", part)
		}
		out = append(out, Threshold{Signal: sig, Quantity: &q})
	}
	return out, nil
}

// Amount is one measured resource: what is available of its capacity.
// A zero Capacity means it was not measured.
type Amount struct {
	Available, Capacity int64
}

// PodUsage is what one pod uses; zero when unknown.
type PodUsage struct {
	Memory, Disk int64
}

// NodeStats is one measurement of the node.
type NodeStats struct {
	Memory, NodeFS, ImageFS, PIDs Amount
	// Pods is the usage of each pod (by UID), when the source knows it.
	Pods map[types.UID]PodUsage
}

// StatsSource measures the node.
type StatsSource interface {
	NodeStats(ctx context.Context) (NodeStats, error)
}

// StatsFunc adapts a function to a StatsSource.
type StatsFunc func(ctx context.Context) (NodeStats, error)

// NodeStats implements StatsSource.
func (f StatsFunc) NodeStats(ctx context.Context) (NodeStats, error) { return f(ctx) }

// breach is a threshold the node crosses.
type breach struct {
	Threshold
	// limit is the threshold as an amount; available what is left.
	limit, available int64
}

func (s NodeStats) amount(sig Signal) Amount {
	switch sig {
	case SignalMemoryAvailable:
		return s.Memory
	case SignalNodeFSAvailable:
		return s.NodeFS
	case SignalImageFSAvailable:
		return s.ImageFS
	}
	return s.PIDs
}

// breaches returns the thresholds the stats cross, in the order given.
func breaches(thresholds []Threshold, s NodeStats) []breach {
	var out []breach
	for _, t := range thresholds {
		a := s.amount(t.Signal)
		if a.Capacity <= 0 {
			continue
		}
		limit := int64(float64(a.Capacity) * t.Percent / 100)
		if t.Quantity != nil {
			limit = t.Quantity.Value()
		}
		if a.Available < limit {
			out = append(out, breach{Threshold: t, limit: limit, available: a.Available})
		}
	}
	return out
}

// conditionOf is the node condition a signal drives.
func conditionOf(sig Signal) corev1.NodeConditionType {
	switch sig {
	case SignalMemoryAvailable:
		return corev1.NodeMemoryPressure
	case SignalPIDAvailable:
		return corev1.NodePIDPressure
	}
	return corev1.NodeDiskPressure
}

// resourceOf is the resource a signal is about, as eviction messages
// name it.
func resourceOf(sig Signal) corev1.ResourceName {
	switch sig {
	case SignalMemoryAvailable:
		return corev1.ResourceMemory
	case SignalPIDAvailable:
		return "pids"
	}
	return corev1.ResourceEphemeralStorage
}

// pressureConditions says which pressure conditions hold at now given
// when each was last observed: a condition stays true for period after
// its signal recovers, so it does not flap.
func pressureConditions(lastSeen map[corev1.NodeConditionType]time.Time, now time.Time, period time.Duration) map[corev1.NodeConditionType]bool {
	out := map[corev1.NodeConditionType]bool{}
	for c, t := range lastSeen {
		if now.Sub(t) < period {
			out[c] = true
		}
	}
	return out
}

// systemCriticalPriority is the priority from which pods are critical
// (system-cluster-critical and system-node-critical).
const systemCriticalPriority = 2000000000

// evictable is true for pods the agent may evict: running, not being
// deleted, not static or mirror, not critical.
func evictable(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil || terminalPhase(p.Status.Phase) || isStatic(p) || isMirror(p) {
		return false
	}
	return p.Spec.Priority == nil || *p.Spec.Priority < systemCriticalPriority
}

// rankForEviction orders pods for eviction under pressure on res, as
// upstream does: pods using more than they request first (BestEffort
// pods request nothing), then by priority (lowest first), then by how
// much usage exceeds requests (most first); QoS class (BestEffort,
// Burstable, Guaranteed) and name break ties. Pods of unknown usage
// rank by priority and QoS class alone.
func rankForEviction(pods []*corev1.Pod, res corev1.ResourceName, usage map[types.UID]PodUsage) []*corev1.Pod {
	type ranked struct {
		pod      *corev1.Pod
		exceeds  bool
		priority int32
		over     int64
		qos      int
	}
	rs := make([]ranked, 0, len(pods))
	for _, p := range pods {
		u, known := usage[p.UID]
		use, req := usageOf(u, res), requestOf(p, res)
		qos := map[corev1.PodQOSClass]int{corev1.PodQOSBestEffort: 0, corev1.PodQOSBurstable: 1, corev1.PodQOSGuaranteed: 2}[qosClass(p)]
		r := ranked{pod: p, exceeds: use > req || qos == 0, qos: qos}
		if known {
			r.over = use - req // unknown usage: QoS decides, not requests
		}
		if p.Spec.Priority != nil {
			r.priority = *p.Spec.Priority
		}
		rs = append(rs, r)
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		switch {
		case a.exceeds != b.exceeds:
			return a.exceeds
		case a.priority != b.priority:
			return a.priority < b.priority
		case a.over != b.over:
			return a.over > b.over
		case a.qos != b.qos:
			return a.qos < b.qos
		}
		return podKey(a.pod) < podKey(b.pod)
	})
	out := make([]*corev1.Pod, len(rs))
	for i, r := range rs {
		out[i] = r.pod
	}
	return out
}

func usageOf(u PodUsage, res corev1.ResourceName) int64 {
	switch res {
	case corev1.ResourceMemory:
		return u.Memory
	case corev1.ResourceEphemeralStorage:
		return u.Disk
	}
	return 0
}

// requestOf sums a resource's requests over the pod's app containers.
func requestOf(p *corev1.Pod, res corev1.ResourceName) int64 {
	var n int64
	for _, c := range p.Spec.Containers {
		if q, ok := c.Resources.Requests[res]; ok {
			n += q.Value()
		}
	}
	return n
}

// evictionMessage explains an eviction the way upstream does.
func evictionMessage(b breach, p *corev1.Pod, usage PodUsage) string {
	res := resourceOf(b.Signal)
	format := func(n int64) string {
		if res == "pids" {
			return strconv.FormatInt(n, 10)
		}
		return resource.NewQuantity(n, resource.BinarySI).String()
	}
	msg := fmt.Sprintf("The node was low on resource: %s. Threshold quantity: %s, available: %s. ", res, format(b.limit), format(b.available))
	if use := usageOf(usage, res); use > 0 && len(p.Spec.Containers) == 1 {
		c := p.Spec.Containers[0]
		req := c.Resources.Requests[res]
		msg += fmt.Sprintf("Container %s was using %s, request is %s, has larger consumption of %s. ", c.Name, format(use), req.String(), res)
	}
	return msg
}
