package cacher

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/skiffkube/skiff/internal/storage"
)

// Cacher serves lists and watches of one resource type from memory.
type Cacher struct {
	cfg Config

	// ready is closed after the first successful list.
	ready     chan struct{}
	readyOnce sync.Once

	// progress rate-limits Store.RequestProgress calls.
	progress progressRequester

	mu sync.RWMutex
	// items maps key → current object.
	items map[string]*item
	// rev is the revision the cache is at: every event up to it is applied.
	rev int64
	// revChanged is closed (and replaced) each time rev advances.
	revChanged chan struct{}
	hist       *history
	watchers   watcherSet
	// stopped is set when Run has returned; new watches are refused.
	stopped bool
}

// New returns a Cacher for cfg. Call Run to fill it.
func New(cfg Config) (*Cacher, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Cacher{
		cfg:        cfg,
		ready:      make(chan struct{}),
		progress:   progressRequester{store: cfg.Store},
		items:      map[string]*item{},
		revChanged: make(chan struct{}),
		hist:       newHistory(cfg.EventCapacity, 0),
		watchers:   newWatcherSet(cfg.IndexField),
	}, nil
}

// Ready is closed once the cache holds its first complete list.
func (c *Cacher) Ready() <-chan struct{} { return c.ready }

// Run lists and watches the store until ctx is done, listing again whenever
// the store watch fails (for example with storage.ErrCompacted). It returns
// nil when ctx is done; every watcher is terminated on return.
func (c *Cacher) Run(ctx context.Context) error {
	defer c.shutdown()
	bookmarks := c.cfg.Clock.NewTicker(c.cfg.BookmarkInterval)
	defer bookmarks.Stop()
	backoff := 100 * time.Millisecond
	for {
		err := c.listAndWatch(ctx, bookmarks.C())
		if ctx.Err() != nil {
			return nil
		}
		c.cfg.Logger.Warn("watch cache restarting", "prefix", c.cfg.Prefix, "err", err)
		if errors.Is(err, storage.ErrCompacted) {
			continue // re-list at once
		}
		t := c.cfg.Clock.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C():
		}
		backoff = min(2*backoff, 10*time.Second)
	}
}

// listAndWatch loads the prefix, then applies the store watch until it
// fails. bookmarks ticks the periodic BOOKMARK events.
func (c *Cacher) listAndWatch(ctx context.Context, bookmarks <-chan time.Time) error {
	list, err := c.cfg.Store.List(ctx, c.cfg.Prefix, storage.ListOptions{})
	if err != nil {
		return fmt.Errorf("cacher: list %s: %w", c.cfg.Prefix, err)
	}
	items := make(map[string]*item, len(list.Items))
	for _, kv := range list.Items {
		if it, err := c.newItem(kv); err == nil {
			items[kv.Key] = it
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The watch starts right after the list revision, so no event is missed.
	events := c.cfg.Store.Watch(ctx, c.cfg.Prefix, list.Revision)
	c.replace(items, list.Revision)
	c.readyOnce.Do(func() { close(c.ready) })
	for {
		select {
		case resp, ok := <-events:
			if !ok {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return errors.New("cacher: store watch closed")
			}
			if resp.Err != nil {
				return fmt.Errorf("cacher: watch %s: %w", c.cfg.Prefix, resp.Err)
			}
			c.process(resp)
		case <-bookmarks:
			c.sendBookmarks()
		}
	}
}

// replace installs a fresh list at rev: history restarts there and every
// watcher is terminated (their clients resume from their last revision, or
// get 410 Gone and list again).
func (c *Cacher) replace(items map[string]*item, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.items = items
	c.hist = newHistory(c.cfg.EventCapacity, rev)
	c.watchers.terminateAll()
	c.setRevLocked(rev)
}

// shutdown terminates every watcher and refuses new ones.
func (c *Cacher) shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	c.watchers.terminateAll()
}

// setRevLocked advances the cache revision and wakes waiters.
func (c *Cacher) setRevLocked(rev int64) {
	if rev == c.rev {
		return
	}
	c.rev = rev
	close(c.revChanged)
	c.revChanged = make(chan struct{})
}

// process applies one store watch response and dispatches its events.
func (c *Cacher) process(resp storage.WatchResponse) {
	if len(resp.Events) == 0 {
		if resp.ProgressRevision > 0 {
			c.mu.Lock()
			if resp.ProgressRevision > c.rev {
				c.setRevLocked(resp.ProgressRevision)
			}
			c.mu.Unlock()
		}
		return
	}
	evs := make([]*event, 0, len(resp.Events))
	c.mu.Lock()
	for _, se := range resp.Events {
		if e := c.applyLocked(se); e != nil {
			evs = append(evs, e)
		}
	}
	if last := resp.Events[len(resp.Events)-1].KV.ModRevision; last > c.rev {
		c.setRevLocked(last)
	}
	c.mu.Unlock()
	for _, e := range evs {
		c.dispatch(e)
	}
}

// applyLocked updates the items for one store event and records it.
func (c *Cacher) applyLocked(se storage.Event) *event {
	key := se.KV.Key
	prev := c.items[key]
	if prev == nil && se.PrevKV != nil {
		if it, err := c.newItem(*se.PrevKV); err == nil {
			prev = it
		}
	}
	e := &event{key: key, rev: se.KV.ModRevision, prev: prev}
	// The event kind follows from cur and prev: see watcher.convert.
	switch se.Type {
	case storage.EventPut:
		cur, err := c.newItem(se.KV)
		if err != nil {
			// Keep the cache truthful: an undecodable object is gone.
			if prev == nil {
				return nil
			}
			delete(c.items, key)
			break
		}
		c.items[key] = cur
		e.cur = cur
	case storage.EventDelete:
		delete(c.items, key)
		if prev == nil {
			return nil
		}
	default:
		return nil
	}
	c.hist.add(e)
	return e
}

// newItem decodes kv and computes its selector attributes.
func (c *Cacher) newItem(kv storage.KeyValue) (*item, error) {
	obj, err := c.cfg.Decode(kv)
	if err != nil {
		c.cfg.Logger.Error("watch cache: cannot decode object", "key", kv.Key, "err", err)
		return nil, fmt.Errorf("cacher: decode %s: %w", kv.Key, err)
	}
	l, f, err := c.cfg.Attrs(obj)
	if err != nil {
		c.cfg.Logger.Error("watch cache: cannot compute attributes", "key", kv.Key, "err", err)
		return nil, fmt.Errorf("cacher: attributes of %s: %w", kv.Key, err)
	}
	return &item{key: kv.Key, obj: obj, labels: l, fields: f}, nil
}

// bookmarkObject returns an empty object carrying only rev (and, for the end
// of initial events, the k8s.io/initial-events-end annotation).
func (c *Cacher) bookmarkObject(rev int64, initialEventsEnd bool) runtime.Object {
	obj := c.cfg.NewFunc()
	if m, err := meta.Accessor(obj); err == nil {
		m.SetResourceVersion(formatRV(rev))
		if initialEventsEnd {
			m.SetAnnotations(map[string]string{initialEventsEndAnnotation: "true"})
		}
	}
	return obj
}

// sendBookmarks gives every watcher that allows bookmarks the cache revision.
func (c *Cacher) sendBookmarks() {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.rev == 0 {
		return
	}
	e := watch.Event{Type: watch.Bookmark, Object: c.bookmarkObject(c.rev, false)}
	c.watchers.each(func(w *watcher) {
		if w.allowBookmarks {
			w.offer(e) // a full buffer just misses this bookmark
		}
	})
}

func formatRV(rev int64) string { return strconv.FormatInt(rev, 10) }

// hasKeyPrefix reports whether key is under prefix.
func hasKeyPrefix(key, prefix string) bool { return strings.HasPrefix(key, prefix) }
