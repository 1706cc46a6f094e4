package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/auth"
)

// Default request limits, as upstream's --max-requests-inflight and
// --max-mutating-requests-inflight.
const (
	DefaultMaxRequestsInflight         = 400
	DefaultMaxMutatingRequestsInflight = 200
	// defaultQueueWait is how long a request may wait for a seat before it
	// is refused with 429.
	defaultQueueWait = 5 * time.Second
)

// Limits bound the requests the server works on at once.
type Limits struct {
	// MaxRequestsInflight and MaxMutatingRequestsInflight are the seats of
	// read-only and mutating requests; 0 means the default, a negative
	// value no limit. Long-running requests (watch, exec, attach,
	// port-forward, proxy, followed logs) take no seat.
	MaxRequestsInflight, MaxMutatingRequestsInflight int
	// QueueWait is the longest a request waits for a seat (0: 5s).
	QueueWait time.Duration
	// QueueLengthPerUser bounds each user's waiting requests (0: a quarter
	// of the seats, at least 10); beyond it a request is refused at once.
	QueueLengthPerUser int
}

// seatPool is a fair, bounded set of seats: a request takes a free seat if
// no one waits, else it queues behind its own user's earlier requests, and
// freed seats go round-robin over the users that wait. One user flooding
// the server therefore waits behind itself only. The pool does no I/O and
// takes no time: the caller times waits out (see acquire).
type seatPool struct {
	mu       sync.Mutex
	seats    int // seats in total; < 0 means unlimited
	inUse    int
	perUser  int                  // max waiting requests per user
	queues   map[string][]*waiter // waiting requests, by user
	order    []string             // users with waiters, in round-robin order
	inflight map[string]int       // seats held, by user (for metrics/tests)
}

// waiter is one queued request; granted is closed when it gets a seat.
type waiter struct {
	user    string
	granted chan struct{}
	done    bool // granted or cancelled
}

func newSeatPool(seats, perUser int) *seatPool {
	return &seatPool{seats: seats, perUser: perUser, queues: map[string][]*waiter{}, inflight: map[string]int{}}
}

// admission results of seatPool.enter.
type entry int

const (
	entrySeated entry = iota
	entryQueued
	entryRejected
)

// enter takes a seat for user, or queues it (w is then the waiter), or
// refuses it when the user's queue is full.
func (p *seatPool) enter(user string) (entry, *waiter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seats < 0 || (p.inUse < p.seats && len(p.order) == 0) {
		p.inUse++
		p.inflight[user]++
		return entrySeated, nil
	}
	q := p.queues[user]
	if len(q) >= p.perUser {
		return entryRejected, nil
	}
	if len(q) == 0 {
		p.order = append(p.order, user)
	}
	w := &waiter{user: user, granted: make(chan struct{})}
	p.queues[user] = append(q, w)
	return entryQueued, w
}

// leave frees user's seat and hands it to the next waiter, round-robin
// over users.
func (p *seatPool) leave(user string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seats < 0 {
		return
	}
	p.inUse--
	if p.inflight[user]--; p.inflight[user] <= 0 {
		delete(p.inflight, user)
	}
	p.dispatch()
}

// dispatch seats waiters while seats are free. Callers hold mu.
func (p *seatPool) dispatch() {
	for p.inUse < p.seats && len(p.order) > 0 {
		user := p.order[0]
		q := p.queues[user]
		w := q[0]
		if len(q) == 1 {
			delete(p.queues, user)
			p.order = p.order[1:]
		} else {
			p.queues[user] = q[1:]
			p.order = append(p.order[1:], user) // to the back of the ring
		}
		w.done = true
		p.inUse++
		p.inflight[user]++
		close(w.granted)
	}
}

// cancel removes w from its queue; it reports false when w was granted a
// seat meanwhile (the caller then holds it and must leave).
func (p *seatPool) cancel(w *waiter) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w.done {
		return false
	}
	w.done = true
	q := p.queues[w.user]
	for i, x := range q {
		if x == w {
			q = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	if len(q) > 0 {
		p.queues[w.user] = q
		return true
	}
	delete(p.queues, w.user)
	for i, u := range p.order {
		if u == w.user {
			p.order = append(p.order[:i:i], p.order[i+1:]...)
			break
		}
	}
	return true
}

// acquire takes a seat for user, waiting at most wait on clk; false means
// refused (queue full, waited too long, or ctx done).
func (p *seatPool) acquire(ctx context.Context, clk clock.WithTicker, user string, wait time.Duration) bool {
	e, w := p.enter(user)
	switch e {
	case entrySeated:
		return true
	case entryRejected:
		return false
	}
	t := clk.NewTimer(wait)
	defer t.Stop()
	select {
	case <-w.granted:
		return true
	case <-t.C():
	case <-ctx.Done():
	}
	if !p.cancel(w) {
		return true // granted while timing out: keep the seat
	}
	return false
}

// limiter holds the read-only and mutating pools.
type limiter struct {
	clock              clock.WithTicker
	wait               time.Duration
	readOnly, mutating *seatPool
}

func newLimiter(l Limits, clk clock.WithTicker) *limiter {
	seats := func(n, def int) int {
		switch {
		case n == 0:
			return def
		case n < 0:
			return -1
		}
		return n
	}
	ro := seats(l.MaxRequestsInflight, DefaultMaxRequestsInflight)
	mu := seats(l.MaxMutatingRequestsInflight, DefaultMaxMutatingRequestsInflight)
	perUser := func(n int) int {
		if l.QueueLengthPerUser > 0 {
			return l.QueueLengthPerUser
		}
		return max(n/4, 10)
	}
	wait := l.QueueWait
	if wait <= 0 {
		wait = defaultQueueWait
	}
	return &limiter{clock: clk, wait: wait, readOnly: newSeatPool(ro, perUser(ro)), mutating: newSeatPool(mu, perUser(mu))}
}

// mutatingVerbs take a seat of the mutating pool.
func isMutatingVerb(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection", "post", "put":
		return true
	}
	return false
}

// isLongRunning reports requests that hold no seat: watches, streams to a
// pod or node, proxies and followed logs, and the health probes.
func isLongRunning(r *http.Request, info requestInfo) bool {
	if publicPath(r.URL.Path) && !strings.HasPrefix(r.URL.Path, "/version") {
		return true
	}
	if !info.IsResource {
		return false
	}
	switch {
	case info.Verb == "watch", info.Resource == "proxy":
		return true
	}
	switch info.Subresource {
	case "exec", "attach", "portforward", "proxy":
		return true
	case "log":
		f := r.URL.Query().Get("follow")
		return f == "true" || f == "1"
	}
	return false
}

// withLimits seats each request in its pool, answering 429 with
// Retry-After when none is free in time, and 413 to bodies declared over
// the limit.
func (s *Server) withLimits(next http.Handler) http.Handler {
	l := newLimiter(s.cfg.Limits, s.cfg.Clock)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBodyBytes {
			s.resp.writeError(w, r, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes)))
			return
		}
		info := parseRequestInfo(r)
		if isLongRunning(r, info) {
			next.ServeHTTP(w, r)
			return
		}
		pool := l.readOnly
		if isMutatingVerb(info.Verb) {
			pool = l.mutating
		}
		user := ""
		if u, ok := auth.UserFrom(r.Context()); ok && u != nil {
			user = u.Name
		}
		if !pool.acquire(r.Context(), l.clock, user, l.wait) {
			s.resp.writeError(w, r, apierrors.NewTooManyRequests("too many requests, please try again later", 1))
			return
		}
		defer pool.leave(user)
		next.ServeHTTP(w, r)
	})
}
