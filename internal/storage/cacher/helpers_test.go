package cacher

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/skiffkube/skiff/internal/storage"
	"github.com/skiffkube/skiff/internal/storage/etcd/etcdtest"
)

const testPrefix = "/registry/configmaps/"

// eventTimeout bounds every wait for an event; tests fail, never hang.
const eventTimeout = 10 * time.Second

func decodeConfigMap(kv storage.KeyValue) (runtime.Object, error) {
	cm := &corev1.ConfigMap{}
	if err := json.Unmarshal(kv.Value, cm); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kv.Key, err)
	}
	cm.ResourceVersion = strconv.FormatInt(kv.ModRevision, 10)
	return cm, nil
}

func newConfigMap() runtime.Object { return &corev1.ConfigMap{} }

func testConfig(s storage.Store) Config {
	return Config{Store: s, Prefix: testPrefix, Decode: decodeConfigMap, NewFunc: newConfigMap}
}

// startCacher runs a Cacher on cfg until the test ends and waits for Ready.
func startCacher(t testing.TB, cfg Config) *Cacher {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := c.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	select {
	case <-c.Ready():
	case <-time.After(eventTimeout):
		t.Fatal("cacher not ready")
	}
	return c
}

// cmValue is the stored JSON of a ConfigMap.
func cmValue(t testing.TB, ns, name string, labels map[string]string, data string) []byte {
	t.Helper()
	b, err := json.Marshal(&corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Data:       map[string]string{"v": data},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cmKey(ns, name string) string { return testPrefix + ns + "/" + name }

func create(t testing.TB, s storage.Store, ns, name string, labels map[string]string, data string) int64 {
	t.Helper()
	rev, err := s.Create(context.Background(), cmKey(ns, name), cmValue(t, ns, name, labels, data))
	if err != nil {
		t.Fatalf("create %s/%s: %v", ns, name, err)
	}
	return rev
}

func update(t testing.TB, s storage.Store, ns, name string, labels map[string]string, data string) int64 {
	t.Helper()
	kv, err := s.Get(context.Background(), cmKey(ns, name))
	if err != nil {
		t.Fatalf("get %s/%s: %v", ns, name, err)
	}
	rev, err := s.Update(context.Background(), cmKey(ns, name), cmValue(t, ns, name, labels, data), kv.ModRevision)
	if err != nil {
		t.Fatalf("update %s/%s: %v", ns, name, err)
	}
	return rev
}

func remove(t testing.TB, s storage.Store, ns, name string) int64 {
	t.Helper()
	_, rev, err := s.Delete(context.Background(), cmKey(ns, name), 0)
	if err != nil {
		t.Fatalf("delete %s/%s: %v", ns, name, err)
	}
	return rev
}

// seen is an event reduced to what tests compare.
type seen struct {
	Type watch.EventType
	Name string
	RV   string
	Data string
}

func (s seen) String() string { return fmt.Sprintf("%s %s@%s %q", s.Type, s.Name, s.RV, s.Data) }

func summarize(t testing.TB, ev watch.Event) seen {
	t.Helper()
	cm, ok := ev.Object.(*corev1.ConfigMap)
	if !ok {
		t.Fatalf("event %s carries %T", ev.Type, ev.Object)
	}
	return seen{Type: ev.Type, Name: cm.Name, RV: cm.ResourceVersion, Data: cm.Data["v"]}
}

// next returns the next event of w.
func next(t testing.TB, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(eventTimeout):
		t.Fatal("no event")
	}
	return watch.Event{}
}

// expectEvents reads len(want) events from w and compares them.
func expectEvents(t testing.TB, w watch.Interface, want ...seen) {
	t.Helper()
	for i, wnt := range want {
		if got := summarize(t, next(t, w)); got != wnt {
			t.Fatalf("event %d: got %v, want %v", i, got, wnt)
		}
	}
}

// expectClosed drains w until its channel closes.
func expectClosed(t testing.TB, w watch.Interface) {
	t.Helper()
	deadline := time.After(eventTimeout)
	for {
		select {
		case _, ok := <-w.ResultChan():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("watch not closed")
		}
	}
}

func names(t testing.TB, objs []runtime.Object) []string {
	t.Helper()
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		cm := o.(*corev1.ConfigMap)
		out = append(out, cm.Namespace+"/"+cm.Name)
	}
	return out
}

func rvString(rev int64) string { return strconv.FormatInt(rev, 10) }

// faultStore is a real store whose watches the test can break, and whose
// List the test can hold, to force and observe a re-list.
type faultStore struct {
	storage.Store

	mu       sync.Mutex
	breaks   []chan struct{} // one per open watch
	listGate chan struct{}   // when non-nil, List waits for it to close
}

func (f *faultStore) Watch(ctx context.Context, prefix string, from int64) <-chan storage.WatchResponse {
	in := f.Store.Watch(ctx, prefix, from)
	brk := make(chan struct{})
	f.mu.Lock()
	f.breaks = append(f.breaks, brk)
	f.mu.Unlock()
	out := make(chan storage.WatchResponse)
	go func() {
		defer close(out)
		for {
			select {
			case resp, ok := <-in:
				if !ok {
					return
				}
				select {
				case out <- resp:
				case <-ctx.Done():
					return
				}
			case <-brk:
				select {
				case out <- storage.WatchResponse{Err: fmt.Errorf("injected: %w", storage.ErrCompacted)}:
				case <-ctx.Done():
				}
				return
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

func (f *faultStore) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	f.mu.Lock()
	gate := f.listGate
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return storage.ListResult{}, ctx.Err()
		}
	}
	return f.Store.List(ctx, prefix, opts)
}

// breakWatches fails every open watch with ErrCompacted and holds List
// until the returned function is called.
func (f *faultStore) breakWatches() (release func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	gate := make(chan struct{})
	f.listGate = gate
	for _, b := range f.breaks {
		close(b)
	}
	f.breaks = nil
	return func() {
		f.mu.Lock()
		f.listGate = nil
		f.mu.Unlock()
		close(gate)
	}
}

func newEtcd(t testing.TB) storage.Store { return etcdtest.New(t) }

// watchEvent wraps a listed object so summarize can read it.
func watchEvent(obj runtime.Object) watch.Event { return watch.Event{Object: obj} }
