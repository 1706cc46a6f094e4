package stats

import (
	"sync"
	"time"
)

// cpuSample is cumulative CPU time (core-nanoseconds) at a time.
type cpuSample struct {
	at    time.Time
	total uint64
}

// cpuRate is the rate of use between two samples in nanocores
// (core-nanoseconds per second). It fails when time did not advance or
// the counter went back (a restarted container).
func cpuRate(prev, cur cpuSample) (uint64, bool) {
	elapsed := cur.at.Sub(prev.at)
	if elapsed <= 0 || cur.total < prev.total {
		return 0, false
	}
	used := float64(cur.total - prev.total)
	return uint64(used * float64(time.Second) / float64(elapsed)), true
}

// rateTracker derives CPU rates from successive samples per key
// (container ID, or "" for the node). A rate spans at least minWindow:
// samples closer to the retained one reuse the last rate.
type rateTracker struct {
	minWindow time.Duration

	mu    sync.Mutex
	state map[string]*rateState
}

type rateState struct {
	prev    cpuSample
	rate    uint64
	hasRate bool
	seen    bool
}

func newRateTracker(minWindow time.Duration) *rateTracker {
	return &rateTracker{minWindow: minWindow, state: map[string]*rateState{}}
}

// observe records cur for key and returns the current rate, if known.
func (t *rateTracker) observe(key string, cur cpuSample) (uint64, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.state[key]
	if !ok {
		t.state[key] = &rateState{prev: cur, seen: true}
		return 0, false
	}
	st.seen = true
	if cur.total < st.prev.total {
		// The counter restarted: start over.
		*st = rateState{prev: cur, seen: true}
		return 0, false
	}
	if cur.at.Sub(st.prev.at) >= t.minWindow {
		st.rate, st.hasRate = cpuRate(st.prev, cur)
		st.prev = cur
	}
	return st.rate, st.hasRate
}

// forgetUnseen drops the keys not observed since the last call, so that
// removed containers do not accumulate.
func (t *rateTracker) forgetUnseen() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, st := range t.state {
		if !st.seen {
			delete(t.state, k)
			continue
		}
		st.seen = false
	}
}
