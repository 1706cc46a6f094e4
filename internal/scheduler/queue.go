package scheduler

import (
	"container/heap"
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// Back-off of a pod that failed to schedule: initialBackoff after the first
// failure, doubling up to maxBackoff.
const (
	initialBackoff = time.Second
	maxBackoff     = 10 * time.Second
	// unschedulableFlush moves pods that waited this long for a cluster
	// event back to the active queue anyway, as a safety net.
	unschedulableFlush = 5 * time.Minute
)

// QueuedPod is a pending pod in the Queue.
type QueuedPod struct {
	// Pod is the latest version seen, with spec.priority resolved.
	Pod *corev1.Pod
	// Attempts counts scheduling attempts that failed.
	Attempts int
	// since is when the pod entered the unschedulable set; readyAt when its
	// back-off ends; index is its heap position (-1 when not active).
	since, readyAt time.Time
	index          int
	// cycle is the move cycle when the pod was popped.
	cycle int64
}

func (q *QueuedPod) key() string { return q.Pod.Namespace + "/" + q.Pod.Name }

// Queue holds pending pods: active (ready to schedule, ordered by priority
// then creation time), backing off, or unschedulable (waiting for a cluster
// event). A popped pod is "in flight" until Done or Requeue.
type Queue struct {
	clock clock.Clock

	mu sync.Mutex
	// pods holds every pod the queue knows, by namespace/name.
	pods map[string]*QueuedPod
	// active is the heap of pods ready to schedule.
	active activeHeap
	// backoff and unschedulable hold pods not in active and not in flight.
	backoff, unschedulable map[string]*QueuedPod
	// inFlight holds popped pods.
	inFlight map[string]*QueuedPod
	// moveCycle counts MoveAll calls, so a pod that fails after a cluster
	// event happened during its attempt is retried rather than parked.
	moveCycle int64
	// wake is signalled when a pod may have become active.
	wake chan struct{}
}

// NewQueue returns an empty queue.
func NewQueue(clk clock.Clock) *Queue {
	return &Queue{
		clock:         clk,
		pods:          map[string]*QueuedPod{},
		backoff:       map[string]*QueuedPod{},
		unschedulable: map[string]*QueuedPod{},
		inFlight:      map[string]*QueuedPod{},
		wake:          make(chan struct{}, 1),
	}
}

// Add adds a pending pod or updates it. A new pod, or an updated one not
// backing off, becomes active; a pod in flight only has its object updated.
func (q *Queue) Add(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := pod.Namespace + "/" + pod.Name
	qp := q.pods[key]
	if qp == nil {
		qp = &QueuedPod{Pod: pod, index: -1}
		q.pods[key] = qp
		q.activate(qp)
		return
	}
	qp.Pod = pod
	switch {
	case qp.index >= 0:
		heap.Fix(&q.active, qp.index)
	case q.unschedulable[key] != nil:
		// The pod changed: it may fit now.
		delete(q.unschedulable, key)
		q.toBackoff(qp)
	}
}

// Delete forgets a pod (deleted, bound, or no longer ours).
func (q *Queue) Delete(namespace, name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := namespace + "/" + name
	qp := q.pods[key]
	if qp == nil {
		return
	}
	delete(q.pods, key)
	delete(q.backoff, key)
	delete(q.unschedulable, key)
	delete(q.inFlight, key)
	if qp.index >= 0 {
		heap.Remove(&q.active, qp.index)
	}
}

// Pop blocks until a pod is active and returns it, in flight; it returns
// ctx's error when ctx ends first.
func (q *Queue) Pop(ctx context.Context) (*QueuedPod, error) {
	for {
		q.mu.Lock()
		wait := q.flush()
		if q.active.Len() > 0 {
			qp := heap.Pop(&q.active).(*QueuedPod)
			qp.cycle = q.moveCycle
			q.inFlight[qp.key()] = qp
			q.mu.Unlock()
			return qp, nil
		}
		q.mu.Unlock()
		if err := q.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// sleep waits for a signal, for d (when positive), or for ctx to end.
func (q *Queue) sleep(ctx context.Context, d time.Duration) error {
	var timer <-chan time.Time
	if d > 0 {
		t := q.clock.NewTimer(d)
		defer t.Stop()
		timer = t.C()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-q.wake:
	case <-timer:
	}
	return nil
}

// Done forgets a pod that was scheduled.
func (q *Queue) Done(qp *QueuedPod) { q.Delete(qp.Pod.Namespace, qp.Pod.Name) }

// Requeue returns a pod in flight after a failed attempt. An unschedulable
// pod waits for a cluster event (or backs off if one happened during its
// attempt); any other failure backs off.
func (q *Queue) Requeue(qp *QueuedPod, unschedulable bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	key := qp.key()
	if q.inFlight[key] != qp {
		return // deleted meanwhile
	}
	delete(q.inFlight, key)
	qp.Attempts++
	qp.readyAt = q.clock.Now().Add(backoffFor(qp.Attempts))
	if unschedulable && qp.cycle == q.moveCycle {
		qp.since = q.clock.Now()
		q.unschedulable[key] = qp
		return
	}
	q.backoff[key] = qp
	q.signal()
}

// MoveAll moves every unschedulable pod to back-off (active once its
// back-off ends): a cluster event may have made room.
func (q *Queue) MoveAll() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveCycle++
	for key, qp := range q.unschedulable {
		delete(q.unschedulable, key)
		q.toBackoff(qp)
	}
}

// Len returns how many pods are active, backing off, unschedulable and in
// flight.
func (q *Queue) Len() (active, backoff, unschedulable, inFlight int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), len(q.backoff), len(q.unschedulable), len(q.inFlight)
}

// toBackoff puts qp in back-off, or activates it when its back-off is over.
func (q *Queue) toBackoff(qp *QueuedPod) {
	if !q.clock.Now().Before(qp.readyAt) {
		q.activate(qp)
		return
	}
	q.backoff[qp.key()] = qp
	q.signal()
}

func (q *Queue) activate(qp *QueuedPod) {
	heap.Push(&q.active, qp)
	q.signal()
}

// flush activates pods whose back-off ended and pods unschedulable for too
// long; it returns how long until the next back-off ends (0: none).
func (q *Queue) flush() time.Duration {
	now := q.clock.Now()
	var next time.Duration
	for key, qp := range q.backoff {
		if d := qp.readyAt.Sub(now); d > 0 {
			if next == 0 || d < next {
				next = d
			}
			continue
		}
		delete(q.backoff, key)
		heap.Push(&q.active, qp)
	}
	for key, qp := range q.unschedulable {
		if now.Sub(qp.since) >= unschedulableFlush {
			delete(q.unschedulable, key)
			heap.Push(&q.active, qp)
		}
	}
	if len(q.unschedulable) > 0 && (next == 0 || next > time.Minute) {
		next = time.Minute // re-check the safety net
	}
	return next
}

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// backoffFor returns the back-off after n failed attempts.
func backoffFor(n int) time.Duration {
	d := initialBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// activeHeap orders pods by priority (highest first), then creation time.
type activeHeap []*QueuedPod

func (h activeHeap) Len() int { return len(h) }
func (h activeHeap) Less(i, j int) bool {
	pi, pj := priorityOf(h[i].Pod), priorityOf(h[j].Pod)
	if pi != pj {
		return pi > pj
	}
	ti, tj := h[i].Pod.CreationTimestamp, h[j].Pod.CreationTimestamp
	if !ti.Equal(&tj) {
		return ti.Before(&tj)
	}
	return h[i].key() < h[j].key()
}
func (h activeHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *activeHeap) Push(x any) {
	qp := x.(*QueuedPod)
	qp.index = len(*h)
	*h = append(*h, qp)
}
func (h *activeHeap) Pop() any {
	old := *h
	qp := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	qp.index = -1
	return qp
}

func priorityOf(p *corev1.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	return 0
}
