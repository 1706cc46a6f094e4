package cacher

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	clocktesting "k8s.io/utils/clock/testing"
)

func TestWatchFromResourceVersion(t *testing.T) {
	s := newEtcd(t)
	start := create(t, s, "ns", "z", nil, "before")
	c := startCacher(t, testConfig(s))
	r1 := create(t, s, "ns", "a", nil, "1")
	r2 := update(t, s, "ns", "a", nil, "2")
	r3 := create(t, s, "other", "b", nil, "1")
	r4 := remove(t, s, "ns", "a")

	ctx := context.Background()
	w, err := c.Watch(ctx, WatchOptions{ResourceVersion: rvString(start)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	expectEvents(t, w,
		seen{watch.Added, "a", rvString(r1), "1"},
		seen{watch.Modified, "a", rvString(r2), "2"},
		seen{watch.Added, "b", rvString(r3), "1"},
		// DELETED carries the last state at the deletion revision.
		seen{watch.Deleted, "a", rvString(r4), "2"},
	)
	// Live events follow the replayed ones.
	r5 := update(t, s, "ns", "z", nil, "after")
	expectEvents(t, w, seen{watch.Modified, "z", rvString(r5), "after"})

	// A namespace watch from the middle of the history.
	wns, err := c.Watch(ctx, WatchOptions{KeyPrefix: testPrefix + "ns/", ResourceVersion: rvString(r2)})
	if err != nil {
		t.Fatal(err)
	}
	defer wns.Stop()
	expectEvents(t, wns,
		seen{watch.Deleted, "a", rvString(r4), "2"},
		seen{watch.Modified, "z", rvString(r5), "after"},
	)
}

func TestWatchTooOldResourceVersion(t *testing.T) {
	s := newEtcd(t)
	cfg := testConfig(s)
	cfg.EventCapacity = 3
	cfg.WaitTimeout = 300 * time.Millisecond
	c := startCacher(t, cfg)
	first := create(t, s, "ns", "a", nil, "0")
	var revs []int64
	for i := 1; i <= 4; i++ {
		revs = append(revs, update(t, s, "ns", "a", nil, rvString(int64(i))))
	}
	ctx := context.Background()
	// Wait until the cache has every event.
	if _, err := c.List(ctx, ListOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Watch(ctx, WatchOptions{ResourceVersion: rvString(first)})
	if !apierrors.IsResourceExpired(err) {
		t.Fatalf("watch from evicted RV: got %v, want 410 Expired", err)
	}
	// The oldest kept event is revs[1]; resuming right before it works.
	w, err := c.Watch(ctx, WatchOptions{ResourceVersion: rvString(revs[0])})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	expectEvents(t, w,
		seen{watch.Modified, "a", rvString(revs[1]), "2"},
		seen{watch.Modified, "a", rvString(revs[2]), "3"},
		seen{watch.Modified, "a", rvString(revs[3]), "4"},
	)
	// A future RV times out with "too large".
	_, err = c.Watch(ctx, WatchOptions{ResourceVersion: rvString(revs[3] + 100)})
	if !IsTooLargeResourceVersion(err) {
		t.Fatalf("watch from future RV: got %v, want too large", err)
	}
}

func TestWatchSelectorTransitions(t *testing.T) {
	s := newEtcd(t)
	c := startCacher(t, testConfig(s))
	web := map[string]string{"app": "web"}
	db := map[string]string{"app": "db"}
	w, err := c.Watch(context.Background(), WatchOptions{
		ResourceVersion: "0",
		Label:           labels.SelectorFromSet(web),
		Field:           fields.OneTermEqualSelector("metadata.namespace", "ns"),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	r1 := create(t, s, "ns", "a", web, "1")
	create(t, s, "ns", "b", db, "1")        // never matches
	create(t, s, "other", "a", web, "1")    // other namespace
	r2 := update(t, s, "ns", "a", db, "2")  // leaves the selector
	update(t, s, "ns", "a", db, "3")        // still outside
	r4 := update(t, s, "ns", "a", web, "4") // comes back
	r5 := update(t, s, "ns", "a", web, "5")
	r6 := remove(t, s, "ns", "a")
	expectEvents(t, w,
		seen{watch.Added, "a", rvString(r1), "1"},
		// The object that stopped matching: its last matching state at the
		// revision of the change.
		seen{watch.Deleted, "a", rvString(r2), "1"},
		seen{watch.Added, "a", rvString(r4), "4"},
		seen{watch.Modified, "a", rvString(r5), "5"},
		seen{watch.Deleted, "a", rvString(r6), "5"},
	)
}

func TestWatchInitialEvents(t *testing.T) {
	s := newEtcd(t)
	c := startCacher(t, testConfig(s))
	ra := create(t, s, "ns", "a", nil, "1")
	rb := create(t, s, "ns", "b", nil, "1")
	rc := create(t, s, "ns", "c", nil, "1")
	ctx := context.Background()
	bData := "1"

	for _, rv := range []string{"", "0"} {
		t.Run("rv="+rv, func(t *testing.T) {
			w, err := c.Watch(ctx, WatchOptions{ResourceVersion: rv})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Stop()
			expectEvents(t, w,
				seen{watch.Added, "a", rvString(ra), "1"},
				seen{watch.Added, "b", rvString(rb), bData},
				seen{watch.Added, "c", rvString(rc), "1"},
			)
			bData = "x" + rv
			rb = update(t, s, "ns", "b", nil, bData)
			expectEvents(t, w, seen{watch.Modified, "b", rvString(rb), bData})
		})
	}

	t.Run("sendInitialEvents", func(t *testing.T) {
		yes := true
		cur, err := s.CurrentRevision(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w, err := c.Watch(ctx, WatchOptions{SendInitialEvents: &yes, AllowBookmarks: true})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		expectEvents(t, w,
			seen{watch.Added, "a", rvString(ra), "1"},
			seen{watch.Added, "b", rvString(rb), bData},
			seen{watch.Added, "c", rvString(rc), "1"},
		)
		ev := next(t, w)
		cm, ok := ev.Object.(*corev1.ConfigMap)
		if ev.Type != watch.Bookmark || !ok {
			t.Fatalf("got %s %T, want the end-of-initial-events bookmark", ev.Type, ev.Object)
		}
		if cm.Annotations[metav1.InitialEventsAnnotationKey] != "true" || cm.ResourceVersion != rvString(cur) || cm.Name != "" {
			t.Fatalf("end bookmark %+v, want annotation and RV %d", cm.ObjectMeta, cur)
		}
		r := remove(t, s, "ns", "c")
		expectEvents(t, w, seen{watch.Deleted, "c", rvString(r), "1"})
	})

	t.Run("sendInitialEvents=false", func(t *testing.T) {
		no := false
		w, err := c.Watch(ctx, WatchOptions{SendInitialEvents: &no})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		r := create(t, s, "ns", "d", nil, "1")
		expectEvents(t, w, seen{watch.Added, "d", rvString(r), "1"})
	})
}

func TestWatchBookmarks(t *testing.T) {
	s := newEtcd(t)
	clk := clocktesting.NewFakeClock(time.Now())
	cfg := testConfig(s)
	cfg.Clock = clk
	cfg.BookmarkInterval = time.Minute
	c := startCacher(t, cfg)
	ctx := context.Background()
	r1 := create(t, s, "ns", "a", nil, "1")

	withBM, err := c.Watch(ctx, WatchOptions{ResourceVersion: rvString(r1), AllowBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer withBM.Stop()
	without, err := c.Watch(ctx, WatchOptions{ResourceVersion: rvString(r1)})
	if err != nil {
		t.Fatal(err)
	}
	defer without.Stop()

	// Another resource's write advances the store; the cache learns of
	// it only through events of its prefix, so write one of ours.
	r2 := create(t, s, "ns", "b", nil, "1")
	expectEvents(t, withBM, seen{watch.Added, "b", rvString(r2), "1"})
	clk.Step(time.Minute)
	ev := next(t, withBM)
	cm, ok := ev.Object.(*corev1.ConfigMap)
	if ev.Type != watch.Bookmark || !ok || cm.ResourceVersion != rvString(r2) || cm.Name != "" || len(cm.Annotations) != 0 {
		t.Fatalf("got %s %#v, want a bare BOOKMARK at %d", ev.Type, ev.Object, r2)
	}
	// The watcher that did not ask for bookmarks sees only the changes.
	r3 := update(t, s, "ns", "a", nil, "2")
	expectEvents(t, without,
		seen{watch.Added, "b", rvString(r2), "1"},
		seen{watch.Modified, "a", rvString(r3), "2"},
	)
	expectEvents(t, withBM, seen{watch.Modified, "a", rvString(r3), "2"})
}

// TestIndexedWatchers: with IndexField, a watcher pinned to a value gets the
// events of objects that have or had it, including moves between values.
func TestIndexedWatchers(t *testing.T) {
	s := newEtcd(t)
	cfg := testConfig(s)
	cfg.IndexField = "data.node"
	cfg.Attrs = func(obj runtime.Object) (labels.Set, fields.Set, error) {
		l, f, err := DefaultAttrs(obj)
		if err != nil {
			return nil, nil, err
		}
		f["data.node"] = obj.(*corev1.ConfigMap).Data["v"]
		return l, f, nil
	}
	c := startCacher(t, cfg)
	ctx := context.Background()
	watchNode := func(node string) watch.Interface {
		w, err := c.Watch(ctx, WatchOptions{ResourceVersion: "0", Field: fields.OneTermEqualSelector("data.node", node)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		return w
	}
	n1, n2 := watchNode("n1"), watchNode("n2")
	all, err := c.Watch(ctx, WatchOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Stop()

	r1 := create(t, s, "ns", "a", nil, "n1")
	r2 := create(t, s, "ns", "b", nil, "n3")
	r3 := update(t, s, "ns", "a", nil, "n2") // moves from n1 to n2
	r4 := remove(t, s, "ns", "a")
	expectEvents(t, n1,
		seen{watch.Added, "a", rvString(r1), "n1"},
		seen{watch.Deleted, "a", rvString(r3), "n1"},
	)
	expectEvents(t, n2,
		seen{watch.Added, "a", rvString(r3), "n2"},
		seen{watch.Deleted, "a", rvString(r4), "n2"},
	)
	expectEvents(t, all,
		seen{watch.Added, "a", rvString(r1), "n1"},
		seen{watch.Added, "b", rvString(r2), "n3"},
		seen{watch.Modified, "a", rvString(r3), "n2"},
		seen{watch.Deleted, "a", rvString(r4), "n2"},
	)
	// n1 saw nothing of b: its next event is a later change of its own.
	r5 := create(t, s, "ns", "c", nil, "n1")
	expectEvents(t, n1, seen{watch.Added, "c", rvString(r5), "n1"})
}
