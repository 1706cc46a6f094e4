package cacher

import (
	"context"
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// watcher is one client watch. The dispatcher converts events for it and
// offers them to input; its goroutine forwards them to result.
type watcher struct {
	c              *Cacher
	ctx            context.Context
	keyPrefix      string
	label          labels.Selector
	field          fields.Selector
	allowBookmarks bool
	// index is the value of Config.IndexField this watcher requires, if
	// indexed.
	index   string
	indexed bool
	// minRev: live events at or below it are already covered by the initial
	// state or replay.
	minRev int64

	input  chan watch.Event
	result chan watch.Event
	done   chan struct{}
	once   sync.Once
}

var _ watch.Interface = (*watcher)(nil)

// ResultChan returns the events; it is closed when the watch ends.
func (w *watcher) ResultChan() <-chan watch.Event { return w.result }

// Stop ends the watch; ResultChan is closed shortly after.
func (w *watcher) Stop() { w.stop() }

func (w *watcher) stop() { w.once.Do(func() { close(w.done) }) }

// offer hands e to the watcher without blocking; false means its buffer is
// full. A stopped watcher accepts (and drops) everything.
func (w *watcher) offer(e watch.Event) bool {
	select {
	case w.input <- e:
		return true
	case <-w.done:
		return true
	default:
		return false
	}
}

// matches reports whether it passes the watcher's selectors.
func (w *watcher) matches(it *item) bool {
	return w.label.Matches(it.labels) && w.field.Matches(it.fields)
}

// convert turns e into what this watcher sees: an object that stops
// matching its selectors is DELETED for it, one that starts matching ADDED.
func (w *watcher) convert(e *event) (watch.Event, bool) {
	if !hasKeyPrefix(e.key, w.keyPrefix) {
		return watch.Event{}, false
	}
	curOK := e.cur != nil && w.matches(e.cur)
	prevOK := e.prev != nil && w.matches(e.prev)
	switch {
	case curOK && prevOK:
		return watch.Event{Type: watch.Modified, Object: e.cur.obj}, true
	case curOK:
		return watch.Event{Type: watch.Added, Object: e.cur.obj}, true
	case prevOK:
		return watch.Event{Type: watch.Deleted, Object: e.deletedObject()}, true
	}
	return watch.Event{}, false
}

// send delivers ev to the client; false when the watch is over.
func (w *watcher) send(ev watch.Event) bool {
	select {
	case w.result <- ev:
		return true
	case <-w.done:
		return false
	case <-w.ctx.Done():
		return false
	}
}

// run sends the initial state, the end-of-initial-events bookmark and the
// replayed history, then forwards live events until the watch ends.
func (w *watcher) run(initial []*item, endBookmark runtime.Object, replay []*event) {
	defer w.c.removeWatcher(w)
	defer close(w.result)
	defer w.stop()
	sort.Slice(initial, func(i, j int) bool { return initial[i].key < initial[j].key })
	for _, it := range initial {
		if w.matches(it) && !w.send(watch.Event{Type: watch.Added, Object: it.obj}) {
			return
		}
	}
	if endBookmark != nil && !w.send(watch.Event{Type: watch.Bookmark, Object: endBookmark}) {
		return
	}
	for _, e := range replay {
		if ev, ok := w.convert(e); ok && !w.send(ev) {
			return
		}
	}
	for {
		select {
		case ev := <-w.input:
			if !w.send(ev) {
				return
			}
		case <-w.done:
			return
		case <-w.ctx.Done():
			return
		}
	}
}

// watcherSet holds the live watchers, indexed by the value of one field
// when their field selector pins it.
type watcherSet struct {
	indexField string
	plain      map[*watcher]struct{}
	byValue    map[string]map[*watcher]struct{}
}

func newWatcherSet(indexField string) watcherSet {
	return watcherSet{
		indexField: indexField,
		plain:      map[*watcher]struct{}{},
		byValue:    map[string]map[*watcher]struct{}{},
	}
}

func (s *watcherSet) add(w *watcher) {
	if s.indexField != "" {
		w.index, w.indexed = w.field.RequiresExactMatch(s.indexField)
	}
	if !w.indexed {
		s.plain[w] = struct{}{}
		return
	}
	m := s.byValue[w.index]
	if m == nil {
		m = map[*watcher]struct{}{}
		s.byValue[w.index] = m
	}
	m[w] = struct{}{}
}

func (s *watcherSet) remove(w *watcher) {
	if !w.indexed {
		delete(s.plain, w)
		return
	}
	if m := s.byValue[w.index]; m != nil {
		delete(m, w)
		if len(m) == 0 {
			delete(s.byValue, w.index)
		}
	}
}

func (s *watcherSet) len() int {
	n := len(s.plain)
	for _, m := range s.byValue {
		n += len(m)
	}
	return n
}

// each calls fn for every watcher.
func (s *watcherSet) each(fn func(*watcher)) {
	for w := range s.plain {
		fn(w)
	}
	for _, m := range s.byValue {
		for w := range m {
			fn(w)
		}
	}
}

// forEvent calls fn for every watcher that may care about e.
func (s *watcherSet) forEvent(e *event, fn func(*watcher)) {
	for w := range s.plain {
		fn(w)
	}
	if len(s.byValue) == 0 {
		return
	}
	var cur, prev string
	var hasCur bool
	if e.cur != nil {
		cur, hasCur = e.cur.fields[s.indexField], true
		for w := range s.byValue[cur] {
			fn(w)
		}
	}
	if e.prev != nil {
		prev = e.prev.fields[s.indexField]
		if hasCur && prev == cur {
			return
		}
		for w := range s.byValue[prev] {
			fn(w)
		}
	}
}

// terminateAll stops every watcher and empties the set.
func (s *watcherSet) terminateAll() {
	s.each(func(w *watcher) { w.stop() })
	s.plain = map[*watcher]struct{}{}
	s.byValue = map[string]map[*watcher]struct{}{}
}

// removeWatcher drops w from the dispatch set.
func (c *Cacher) removeWatcher(w *watcher) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watchers.remove(w)
}

// dispatch offers e to every interested watcher. Watchers whose buffer is
// full get up to DispatchTimeout (shared by all of them) to make room; the
// ones that still have none are terminated. Only Run's goroutine dispatches,
// so every watcher gets events in order.
func (c *Cacher) dispatch(e *event) {
	blocked := c.offerAll(e)
	if len(blocked) == 0 {
		return
	}
	// Wait without the lock, so that reads and registrations go on.
	timer := c.cfg.Clock.NewTimer(c.cfg.DispatchTimeout)
	defer timer.Stop()
	expired := false
	for _, p := range blocked {
		if !expired {
			select {
			case p.w.input <- p.ev:
				continue
			case <-p.w.done:
				continue
			case <-timer.C():
				expired = true
			}
		}
		if !p.w.offer(p.ev) {
			c.cfg.Logger.Warn("watch cache: terminating slow watcher", "prefix", c.cfg.Prefix, "rev", e.rev)
			p.w.stop()
		}
	}
}

// pending is an event a watcher's full buffer could not take yet.
type pending struct {
	w  *watcher
	ev watch.Event
}

// offerAll converts e for each interested watcher and offers it without
// blocking; it returns the watchers whose buffer was full.
func (c *Cacher) offerAll(e *event) []pending {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var blocked []pending
	c.watchers.forEvent(e, func(w *watcher) {
		if e.rev <= w.minRev {
			return
		}
		ev, ok := w.convert(e)
		if ok && !w.offer(ev) {
			blocked = append(blocked, pending{w, ev})
		}
	})
	return blocked
}
