package cacher

import (
	"sort"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
)

// item is one cached object with the attributes selectors match. Items are
// immutable once built; the cache replaces them.
type item struct {
	key    string
	obj    runtime.Object
	labels labels.Set
	fields fields.Set
}

// event is one change, decoded once and shared by every watcher.
type event struct {
	key string
	rev int64
	// cur is the new state; nil for a deletion.
	cur *item
	// prev is the state before the change; nil for a creation.
	prev *item

	// prevAtRev is prev.obj with resourceVersion set to rev, built on first
	// use: the object of a DELETED event (also for selector transitions).
	prevOnce  sync.Once
	prevAtRev runtime.Object
}

// deletedObject returns the object a DELETED event carries: the last state
// with the resourceVersion of this event.
func (e *event) deletedObject() runtime.Object {
	e.prevOnce.Do(func() {
		obj := e.prev.obj.DeepCopyObject()
		if m, err := meta.Accessor(obj); err == nil {
			m.SetResourceVersion(formatRV(e.rev))
		}
		e.prevAtRev = obj
	})
	return e.prevAtRev
}

// history is a ring of the most recent events. Every event after revision
// start is in it. Not safe for concurrent use (the Cacher locks).
type history struct {
	buf   []*event
	head  int // index of the oldest event
	n     int
	start int64
}

func newHistory(capacity int, start int64) *history {
	return &history{buf: make([]*event, capacity), start: start}
}

// add appends e, evicting the oldest event when full.
func (h *history) add(e *event) {
	if h.n == len(h.buf) {
		h.start = h.buf[h.head].rev
		h.buf[h.head] = nil
		h.head = (h.head + 1) % len(h.buf)
		h.n--
	}
	h.buf[(h.head+h.n)%len(h.buf)] = e
	h.n++
}

func (h *history) at(i int) *event { return h.buf[(h.head+i)%len(h.buf)] }

// since returns the events after revision rev, and false when some of them
// were evicted (rev is older than start).
func (h *history) since(rev int64) ([]*event, bool) {
	if rev < h.start {
		return nil, false
	}
	i := sort.Search(h.n, func(i int) bool { return h.at(i).rev > rev })
	out := make([]*event, 0, h.n-i)
	for ; i < h.n; i++ {
		out = append(out, h.at(i))
	}
	return out, true
}
