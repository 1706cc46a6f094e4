package bench

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// bindTracker watches the pods of one namespace and records, per pod, when
// the watch reported it created and when it first reported it bound.
type bindTracker struct {
	mu      sync.Mutex
	created map[string]time.Time
	bound   map[string]time.Time
	// changed is closed (and replaced) whenever a pod is first seen bound.
	changed chan struct{}
	// now tells the time (time.Now; tests may replace it).
	now func() time.Time
}

func newBindTracker() *bindTracker {
	return &bindTracker{created: map[string]time.Time{}, bound: map[string]time.Time{},
		changed: make(chan struct{}), now: time.Now}
}

// observe records one pod event.
func (t *bindTracker) observe(pod *corev1.Pod) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.created[pod.Name]; !ok {
		t.created[pod.Name] = now
	}
	if _, ok := t.bound[pod.Name]; ok || pod.Spec.NodeName == "" {
		return
	}
	t.bound[pod.Name] = now
	close(t.changed)
	t.changed = make(chan struct{})
}

// countBound returns how many pods named <prefix>-* are bound, and a
// channel closed at the next bind.
func (t *bindTracker) countBound(prefix string) (int, <-chan struct{}) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for name := range t.bound {
		if strings.HasPrefix(name, prefix+"-") {
			n++
		}
	}
	return n, t.changed
}

// waitBound waits until n pods named <prefix>-* are bound.
func (t *bindTracker) waitBound(ctx context.Context, prefix string, n int, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		got, changed := t.countBound(prefix)
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return fmt.Errorf("%d of %d %s pods bound after %v", got, n, prefix, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// samples returns, for the pods named <prefix>-*, the create→bound
// latencies and the bind times, sorted.
func (t *bindTracker) samples(prefix string) (latencies []time.Duration, binds []time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for name, b := range t.bound {
		if !strings.HasPrefix(name, prefix+"-") {
			continue
		}
		binds = append(binds, b)
		if c, ok := t.created[name]; ok {
			latencies = append(latencies, b.Sub(c))
		}
	}
	slices.SortFunc(binds, func(a, b time.Time) int { return a.Compare(b) })
	return latencies, binds
}

// run watches the namespace's pods until ctx ends. It lists first, so it
// must start before the pods are created; ready is closed once the watch
// is open.
func (t *bindTracker) run(ctx context.Context, cs kubernetes.Interface, namespace string, ready chan<- struct{}) error {
	pods := cs.CoreV1().Pods(namespace)
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing pods of %s: %w", namespace, err)
	}
	for i := range list.Items {
		t.observe(&list.Items[i])
	}
	lw := &cache.ListWatch{WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		return pods.Watch(ctx, o)
	}}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, lw)
	if err != nil {
		return fmt.Errorf("watching pods of %s: %w", namespace, err)
	}
	defer w.Stop()
	close(ready)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return fmt.Errorf("the pod watch of %s ended", namespace)
			}
			if p, isPod := ev.Object.(*corev1.Pod); isPod && ev.Type != watch.Deleted {
				t.observe(p)
			}
		}
	}
}
