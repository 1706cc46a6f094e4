package cacher

import (
	"context"
	"reflect"
	"runtime"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/watch"
)

// TestRelistAfterCompaction breaks the cacher's store watch with
// ErrCompacted while writes and a compaction happen: the cacher lists
// again, watchers are terminated, and old revisions get 410.
func TestRelistAfterCompaction(t *testing.T) {
	s := &faultStore{Store: newEtcd(t)}
	c := startCacher(t, testConfig(s))
	ctx := context.Background()
	before := create(t, s, "ns", "a", nil, "1")
	create(t, s, "ns", "b", nil, "1")
	w, err := c.Watch(ctx, WatchOptions{ResourceVersion: rvString(before)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	release := s.breakWatches()
	remove(t, s, "ns", "a")
	created := create(t, s, "ns", "c", nil, "1")
	if err := s.Compact(ctx, created); err != nil {
		t.Fatal(err)
	}
	release()

	expectClosed(t, w) // terminated by the re-list
	res, err := c.List(ctx, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(t, res.Items), []string{"ns/b", "ns/c"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after re-list: %v, want %v", got, want)
	}
	if _, err := c.Watch(ctx, WatchOptions{ResourceVersion: rvString(before)}); !apierrors.IsResourceExpired(err) {
		t.Fatalf("watch from before the re-list: got %v, want 410", err)
	}
	// Watching resumes normally from the re-list revision.
	w2, err := c.Watch(ctx, WatchOptions{ResourceVersion: rvString(res.ResourceVersion)})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	r := update(t, s, "ns", "c", nil, "2")
	expectEvents(t, w2, seen{watch.Modified, "c", rvString(r), "2"})
}

// TestSlowWatcherDropped: a watcher that never reads is terminated; the
// others get every event.
func TestSlowWatcherDropped(t *testing.T) {
	s := newEtcd(t)
	cfg := testConfig(s)
	cfg.WatcherBuffer = 2
	cfg.DispatchTimeout = 200 * time.Millisecond
	c := startCacher(t, cfg)
	ctx := context.Background()
	r0 := create(t, s, "ns", "a", nil, "0")
	if _, err := c.List(ctx, ListOptions{}); err != nil { // sync the cache
		t.Fatal(err)
	}
	slow, err := c.Watch(ctx, WatchOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Stop()
	fast, err := c.Watch(ctx, WatchOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Stop()
	expectEvents(t, fast, seen{watch.Added, "a", rvString(r0), "0"})

	// The fast watcher reads each change as it comes.
	for i := 1; i <= 20; i++ {
		d := rvString(int64(i))
		r := update(t, s, "ns", "a", nil, d)
		expectEvents(t, fast, seen{watch.Modified, "a", rvString(r), d})
	}
	// The slow watcher holds at most: one in hand, its buffer, then closes.
	got := 0
	deadline := time.After(eventTimeout)
	for open := true; open; {
		select {
		case _, open = <-slow.ResultChan():
			if open {
				got++
			}
		case <-deadline:
			t.Fatalf("slow watcher not terminated after %d events", got)
		}
	}
	if got > 1+1+cfg.WatcherBuffer+1 {
		t.Fatalf("slow watcher got %d events before closing", got)
	}
}

// TestNoGoroutineLeak: watches stopped, cancelled or cut off by the end of
// Run leave no goroutine behind.
func TestNoGoroutineLeak(t *testing.T) {
	s := newEtcd(t)
	create(t, s, "ns", "a", nil, "0")
	settle := func() int {
		runtime.GC()
		return runtime.NumGoroutine()
	}
	base := settle()

	c, err := New(testConfig(s))
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = c.Run(runCtx) }()
	<-c.Ready()

	watchCtx, cancelWatches := context.WithCancel(context.Background())
	var ws []watch.Interface
	for i := 0; i < 30; i++ {
		ctx := context.Background()
		if i%3 == 1 {
			ctx = watchCtx
		}
		w, err := c.Watch(ctx, WatchOptions{ResourceVersion: "0", AllowBookmarks: true})
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	update(t, s, "ns", "a", nil, "1")
	for i, w := range ws {
		if i%3 == 0 {
			w.Stop()
		}
	}
	cancelWatches()
	stopRun()
	wg.Wait()
	for _, w := range ws {
		expectClosed(t, w)
	}
	deadline := time.Now().Add(eventTimeout)
	for n := settle(); n > base; n = settle() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", n, base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := c.Watch(context.Background(), WatchOptions{ResourceVersion: "0"}); !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("watch after Run: got %v, want 503", err)
	}
}
