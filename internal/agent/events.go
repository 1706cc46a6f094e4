package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"
)

// Event reasons the agent reports, as the kubelet names them.
const (
	EventPulling             = "Pulling"
	EventPulled              = "Pulled"
	EventCreated             = "Created"
	EventStarted             = "Started"
	EventKilling             = "Killing"
	EventBackOff             = "BackOff"
	EventFailed              = "Failed"
	EventUnhealthy           = "Unhealthy"
	EventFailedMount         = "FailedMount"
	EventFailedPostStartHook = "FailedPostStartHook"
	EventFailedPreStopHook   = "FailedPreStopHook"
	EventDNSConfigForming    = "DNSConfigForming"
	EventInvalidEnvVarNames  = "InvalidEnvironmentVariableNames"
)

// Event writer limits: a repeated event updates its count at most every
// eventRepeatInterval, and at most eventQueueMax wait to be written.
const (
	eventRepeatInterval = 30 * time.Second
	eventQueueMax       = 1000
	eventComponent      = "kubelet"
)

// recorder writes Events about pods. Writes happen on a goroutine that
// runs only while events wait (so an idle agent holds none), owned by
// the agent's Run. Repeats of a warning (same pod, container, reason and
// message) bump its count instead of creating another.
type recorder struct {
	client kubernetes.Interface
	node   string
	clock  clock.PassiveClock
	log    *slog.Logger

	mu      sync.Mutex
	ctx     context.Context
	wg      *sync.WaitGroup
	queue   []*corev1.Event
	running bool
	// seen are the events written per pod, by key.
	seen map[types.UID]map[string]*seenEvent
	// lastNano keeps event names (<pod>.<hex nanoseconds>) unique.
	lastNano int64
}

type seenEvent struct {
	name, namespace string
	count           int32
	written         time.Time
}

// start makes the recorder write with ctx, on goroutines counted in wg.
func (r *recorder) start(ctx context.Context, wg *sync.WaitGroup) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.ctx, r.wg = ctx, wg
	r.mu.Unlock()
}

// event records one event about pod (and container, if not "").
func (r *recorder) event(pod *corev1.Pod, container, typ, reason, format string, args ...any) {
	if r == nil || pod == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	now := r.clock.Now()
	key := container + "\x00" + reason + "\x00" + msg
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx == nil || r.ctx.Err() != nil {
		return
	}
	byKey := r.seen[pod.UID]
	if s := byKey[key]; s != nil {
		s.count++
		if now.Sub(s.written) < eventRepeatInterval {
			return
		}
		s.written = now
		r.enqueue(&corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: s.namespace}, Count: s.count, LastTimestamp: metav1.NewTime(now)})
		return
	}
	ev := r.newEvent(pod, container, typ, reason, msg, now)
	if typ != corev1.EventTypeWarning {
		// Only warnings repeat much (back-off, failed probes and mounts);
		// not remembering the rest keeps healthy pods free.
		r.enqueue(ev)
		return
	}
	if byKey == nil {
		byKey = map[string]*seenEvent{}
		r.seen[pod.UID] = byKey
	}
	byKey[key] = &seenEvent{name: ev.Name, namespace: ev.Namespace, count: 1, written: now}
	r.enqueue(ev)
}

func (r *recorder) newEvent(pod *corev1.Pod, container, typ, reason, msg string, now time.Time) *corev1.Event {
	ref := corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, ResourceVersion: pod.ResourceVersion}
	if container != "" {
		ref.FieldPath = fieldPath(pod, container)
	}
	t := metav1.NewTime(now)
	r.lastNano = max(now.UnixNano(), r.lastNano+1)
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", pod.Name, r.lastNano), Namespace: pod.Namespace},
		InvolvedObject: ref,
		Reason:         reason, Message: msg, Type: typ,
		Source:         corev1.EventSource{Component: eventComponent, Host: r.node},
		FirstTimestamp: t, LastTimestamp: t, Count: 1,
		ReportingController: eventComponent, ReportingInstance: r.node,
	}
}

// fieldPath names a container the way events do.
func fieldPath(pod *corev1.Pod, name string) string {
	for _, c := range pod.Spec.InitContainers {
		if c.Name == name {
			return "spec.initContainers{" + name + "}"
		}
	}
	return "spec.containers{" + name + "}"
}

// enqueue adds ev and starts the writer if none runs (r.mu held).
func (r *recorder) enqueue(ev *corev1.Event) {
	if len(r.queue) >= eventQueueMax {
		return
	}
	r.queue = append(r.queue, ev)
	if r.running {
		return
	}
	r.running = true
	ctx := r.ctx
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.drain(ctx)
	}()
}

// drain writes queued events until none is left.
func (r *recorder) drain(ctx context.Context) {
	for {
		r.mu.Lock()
		if len(r.queue) == 0 || ctx.Err() != nil {
			r.queue, r.running = nil, false
			r.mu.Unlock()
			return
		}
		ev := r.queue[0]
		r.queue = r.queue[1:]
		r.mu.Unlock()
		if err := r.write(ctx, ev); err != nil && ctx.Err() == nil {
			r.log.Debug("writing event", "reason", ev.Reason, "err", err)
		}
	}
}

// write creates an event, or patches the count of a repeated one (which
// has no involvedObject).
func (r *recorder) write(ctx context.Context, ev *corev1.Event) error {
	events := r.client.CoreV1().Events(ev.Namespace)
	if ev.InvolvedObject.Kind == "" {
		body, err := json.Marshal(map[string]any{"count": ev.Count, "lastTimestamp": ev.LastTimestamp})
		if err != nil {
			return err
		}
		_, err = events.Patch(ctx, ev.Name, types.MergePatchType, body, metav1.PatchOptions{})
		return err
	}
	_, err := events.Create(ctx, ev, metav1.CreateOptions{})
	return err
}

// forget drops what is remembered of pods not in keep.
func (r *recorder) forget(keep map[types.UID]bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for uid := range r.seen {
		if !keep[uid] {
			delete(r.seen, uid)
		}
	}
}
