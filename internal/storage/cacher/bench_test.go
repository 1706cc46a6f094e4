package cacher

import (
	"context"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/watch"

	"github.com/skiffkube/skiff/internal/storage"
)

// unusedStore satisfies Config.Store for benchmarks that feed the cacher
// directly; any call panics.
type unusedStore struct{ storage.Store }

// BenchmarkFanout1000 measures one change going from a store event
// (decoded once) to 1,000 watchers, each of which receives it.
func BenchmarkFanout1000(b *testing.B) {
	const watchers = 1000
	c, err := New(testConfig(unusedStore{}))
	if err != nil {
		b.Fatal(err)
	}
	key := cmKey("ns", "a")
	value := cmValue(b, "ns", "a", map[string]string{"app": "web"}, "x")
	first, err := c.newItem(storage.KeyValue{Key: key, Value: value, ModRevision: 1})
	if err != nil {
		b.Fatal(err)
	}
	c.replace(map[string]*item{key: first}, 1)
	c.readyOnce.Do(func() { close(c.ready) })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var received, consumers sync.WaitGroup
	for i := 0; i < watchers; i++ {
		w, err := c.Watch(ctx, WatchOptions{ResourceVersion: "0"})
		if err != nil {
			b.Fatal(err)
		}
		if ev := <-w.ResultChan(); ev.Type != watch.Added {
			b.Fatalf("initial event %s", ev.Type)
		}
		consumers.Add(1)
		go func() {
			defer consumers.Done()
			for range w.ResultChan() {
				received.Done()
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		received.Add(watchers)
		rev := int64(i + 2)
		c.process(storage.WatchResponse{Events: []storage.Event{{
			Type:   storage.EventPut,
			KV:     storage.KeyValue{Key: key, Value: value, ModRevision: rev},
			PrevKV: &storage.KeyValue{Key: key, Value: value, ModRevision: rev - 1},
		}}})
		received.Wait()
	}
	b.StopTimer()
	cancel()
	consumers.Wait()
}
