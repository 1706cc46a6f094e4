package bench

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Fan-out scenario constants.
const (
	// genLabel carries the number of the change on the watched pod.
	genLabel = "bench-generation"
	// deliveryTimeout bounds the wait for one change to reach every watcher.
	deliveryTimeout = time.Minute
)

// change tracks the delivery of one update to every watcher.
type change struct {
	received atomic.Int64
	// all is closed when the last watcher got the change, at doneAt.
	all    chan struct{}
	doneAt time.Time
}

// fanOut is the state of the fan-out scenario: watchers count deliveries of
// each numbered change of one pod.
type fanOut struct {
	watchers int
	changes  []*change
}

func newFanOut(watchers, changes int) *fanOut {
	f := &fanOut{watchers: watchers, changes: make([]*change, changes+1)}
	for i := range f.changes {
		f.changes[i] = &change{all: make(chan struct{})}
	}
	return f
}

// deliver records that one watcher received the pod at generation gen.
func (f *fanOut) deliver(pod *corev1.Pod) {
	gen, err := strconv.Atoi(pod.Labels[genLabel])
	if err != nil || gen < 0 || gen >= len(f.changes) {
		return
	}
	c := f.changes[gen]
	if c.received.Add(1) == int64(f.watchers) {
		c.doneAt = time.Now()
		close(c.all)
	}
}

// measureFanOut opens watchers watches of the pods of namespace, spread
// over several HTTP/2 connections, then updates one pod changes times
// (after one untimed warm-up change) and returns, per change, the time from
// sending the update until the last watcher received it.
func measureFanOut(ctx context.Context, base *rest.Config, namespace string, watchers, changes int) ([]time.Duration, error) {
	admin, err := kubernetes.NewForConfig(base)
	if err != nil {
		return nil, fmt.Errorf("fan-out client: %w", err)
	}
	pod, err := admin.CoreV1().Pods(namespace).Create(ctx, BenchPod(namespace, "watched"), metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("creating the watched pod: %w", err)
	}
	f := newFanOut(watchers, changes)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel() // ends every watch, then wait for their readers
		wg.Wait()
	}()
	if err := f.openWatches(ctx, base, namespace, pod.ResourceVersion, &wg); err != nil {
		return nil, err
	}
	out := make([]time.Duration, 0, changes)
	for gen := range changes + 1 {
		t0 := time.Now()
		patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, genLabel, strconv.Itoa(gen))
		if _, err := admin.CoreV1().Pods(namespace).Patch(ctx, pod.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			return nil, fmt.Errorf("updating the watched pod: %w", err)
		}
		c := f.changes[gen]
		select {
		case <-c.all:
		case <-time.After(deliveryTimeout):
			return nil, fmt.Errorf("change %d reached %d of %d watchers in %v", gen, c.received.Load(), watchers, deliveryTimeout)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if gen > 0 { // generation 0 only proves every watch is live
			out = append(out, c.doneAt.Sub(t0))
		}
	}
	return out, nil
}

// openWatches starts f.watchers watches from resourceVersion, each read by a
// goroutine counted in wg that ends when ctx ends.
func (f *fanOut) openWatches(ctx context.Context, base *rest.Config, namespace, resourceVersion string, wg *sync.WaitGroup) error {
	connections := (f.watchers + watchersPerConnection - 1) / watchersPerConnection
	clients := make([]kubernetes.Interface, connections)
	for i := range clients {
		cfg := rest.CopyConfig(base)
		// A dial function of its own gives each client its own transport,
		// hence its own connection.
		cfg.Dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return fmt.Errorf("watch client: %w", err)
		}
		clients[i] = cs
	}
	for i := range f.watchers {
		w, err := clients[i%connections].CoreV1().Pods(namespace).Watch(ctx, metav1.ListOptions{ResourceVersion: resourceVersion})
		if err != nil {
			return fmt.Errorf("opening watch %d: %w", i, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.consume(ctx, w)
		}()
	}
	return nil
}

// consume counts the pod events of w until ctx ends or w closes.
func (f *fanOut) consume(ctx context.Context, w watch.Interface) {
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			if pod, isPod := ev.Object.(*corev1.Pod); isPod && ev.Type == watch.Modified {
				f.deliver(pod)
			}
		}
	}
}
