package job

import (
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Default pod replacement back-off: 10 s after the first failure, doubling
// with each further failure, at most 6 minutes.
const (
	defaultBackoff    = 10 * time.Second
	defaultMaxBackoff = 6 * time.Minute
)

// backoffRecord is a Job's recent failure history.
type backoffRecord struct {
	// failures counts the pod failures since the last success.
	failures int
	// last is when the most recent of them finished.
	last time.Time
}

// backoffStore keeps the back-off records of Jobs by key, in memory (as
// upstream does: a restarted controller starts afresh).
type backoffStore struct {
	mu      sync.Mutex
	records map[string]backoffRecord
}

func newBackoffStore() *backoffStore {
	return &backoffStore{records: map[string]backoffRecord{}}
}

// record adds newly counted failures (their finish times) and successes
// to key's record and returns it.
func (s *backoffStore) record(key string, failed []time.Time, succeeded int) backoffRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[key]
	if succeeded > 0 {
		r = backoffRecord{}
	}
	for _, t := range failed {
		r.failures++
		if t.After(r.last) {
			r.last = t
		}
	}
	s.records[key] = r
	return r
}

func (s *backoffStore) forget(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, key)
}

// backoffDelay is how long after the last of failures a replacement pod
// may start: base·2^(failures-1), at most limit; 0 without failures.
func backoffDelay(failures int, base, limit time.Duration) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := base
	for range failures - 1 {
		d *= 2
		if d >= limit {
			return limit
		}
	}
	return min(d, limit)
}

// backoffRemaining is how long replacements must still wait at now.
func backoffRemaining(r backoffRecord, base, limit time.Duration, now time.Time) time.Duration {
	return max(r.last.Add(backoffDelay(r.failures, base, limit)).Sub(now), 0)
}

// finishTime is when a pod finished: the latest container termination,
// else the time of its last condition change, else fallback.
func finishTime(p *corev1.Pod, fallback time.Time) time.Time {
	var t time.Time
	for _, s := range slices.Concat(p.Status.InitContainerStatuses, p.Status.ContainerStatuses) {
		if term := s.State.Terminated; term != nil && term.FinishedAt.After(t) {
			t = term.FinishedAt.Time
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.LastTransitionTime.After(t) {
			t = c.LastTransitionTime.Time
		}
	}
	if t.IsZero() || t.After(fallback) {
		return fallback
	}
	return t
}
