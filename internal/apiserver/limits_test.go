package apiserver

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

// poolOp is one step of a seatPool script: "enter a x1" queues or seats a
// request of user a labelled x1, "leave a" frees a seat of a, "cancel x1"
// gives up waiting. want is the entry result (enter), or the labels
// granted by the step in order (leave).
type poolOp struct {
	op      string
	want    entry
	granted []string
	// cancelled is what cancel reports.
	cancelled bool
}

func TestSeatPoolScripts(t *testing.T) {
	tests := []struct {
		name           string
		seats, perUser int
		ops            []poolOp
	}{
		{name: "free seats are taken at once", seats: 2, perUser: 1, ops: []poolOp{
			{op: "enter a a1", want: entrySeated},
			{op: "enter b b1", want: entrySeated},
			{op: "enter a a2", want: entryQueued},
			{op: "enter a a3", want: entryRejected}, // a's queue is full
			{op: "enter b b2", want: entryQueued},
			{op: "leave a", granted: []string{"a2"}},
			{op: "leave b", granted: []string{"b2"}},
			{op: "leave a"},
		}},
		{name: "round robin over users, not arrival order", seats: 1, perUser: 10, ops: []poolOp{
			{op: "enter a a0", want: entrySeated},
			{op: "enter a a1", want: entryQueued},
			{op: "enter a a2", want: entryQueued},
			{op: "enter a a3", want: entryQueued},
			{op: "enter b b1", want: entryQueued},
			{op: "enter c c1", want: entryQueued},
			{op: "leave a", granted: []string{"a1"}},
			{op: "leave a", granted: []string{"b1"}},
			{op: "leave b", granted: []string{"c1"}},
			{op: "leave c", granted: []string{"a2"}},
			{op: "leave a", granted: []string{"a3"}},
			{op: "leave a"},
			{op: "enter b b2", want: entrySeated},
		}},
		{name: "newcomers do not overtake waiters", seats: 1, perUser: 5, ops: []poolOp{
			{op: "enter a a1", want: entrySeated},
			{op: "enter b b1", want: entryQueued},
			{op: "cancel b1", cancelled: true},
			{op: "leave a"},
			{op: "enter c c1", want: entrySeated},
			{op: "enter a a2", want: entryQueued},
			{op: "enter b b2", want: entryQueued},
			{op: "cancel a2", cancelled: true},
			{op: "leave c", granted: []string{"b2"}},
			{op: "cancel b2", cancelled: false}, // already granted
		}},
		{name: "unlimited", seats: -1, perUser: 1, ops: []poolOp{
			{op: "enter a a1", want: entrySeated},
			{op: "enter a a2", want: entrySeated},
			{op: "enter a a3", want: entrySeated},
			{op: "leave a"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newSeatPool(tt.seats, tt.perUser)
			waiters, all := map[string]*waiter{}, map[string]*waiter{}
			for i, op := range tt.ops {
				f := strings.Fields(op.op)
				switch f[0] {
				case "enter":
					got, w := p.enter(f[1])
					if got != op.want {
						t.Fatalf("step %d %q: got %v, want %v", i, op.op, got, op.want)
					}
					if w != nil {
						waiters[f[2]], all[f[2]] = w, w
					}
				case "leave":
					p.leave(f[1])
				case "cancel":
					delete(waiters, f[1])
					if got := p.cancel(all[f[1]]); got != op.cancelled {
						t.Fatalf("step %d %q: cancel = %v, want %v", i, op.op, got, op.cancelled)
					}
				}
				var granted []string
				for label, w := range waiters {
					select {
					case <-w.granted:
						granted = append(granted, label)
						delete(waiters, label)
					default:
					}
				}
				slices.Sort(granted)
				if !slices.Equal(granted, op.granted) {
					t.Fatalf("step %d %q: granted %v, want %v", i, op.op, granted, op.granted)
				}
			}
		})
	}
}

func TestSeatPoolAcquireTimesOut(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	p := newSeatPool(1, 5)
	if !p.acquire(context.Background(), clk, "a", time.Second) {
		t.Fatal("first acquire refused")
	}
	res := make(chan bool)
	go func() { res <- p.acquire(context.Background(), clk, "b", time.Second) }()
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	clk.Step(999 * time.Millisecond)
	select {
	case got := <-res:
		t.Fatalf("acquire returned %v before its wait ran out", got)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Step(time.Millisecond)
	if <-res {
		t.Fatal("acquire succeeded after its wait ran out")
	}
	// The timed-out waiter left the queue: freeing the seat seats nobody.
	p.leave("a")
	if p.inUse != 0 || len(p.order) != 0 || len(p.queues) != 0 {
		t.Fatalf("pool not empty: inUse %d order %v", p.inUse, p.order)
	}
}

func TestSeatPoolAcquireGranted(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	p := newSeatPool(1, 5)
	p.acquire(context.Background(), clk, "a", time.Second)
	res := make(chan bool)
	go func() { res <- p.acquire(context.Background(), clk, "b", time.Second) }()
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	p.leave("a")
	if !<-res {
		t.Fatal("acquire refused though a seat was freed")
	}
	if p.inflight["b"] != 1 || p.inUse != 1 {
		t.Fatalf("inflight %v inUse %d", p.inflight, p.inUse)
	}
}

func TestIsLongRunning(t *testing.T) {
	tests := []struct {
		method, target string
		want           bool
	}{
		{"GET", "/api/v1/pods", false},
		{"GET", "/api/v1/pods?watch=true", true},
		{"GET", "/api/v1/watch/pods", true},
		{"POST", "/api/v1/namespaces/d/pods/p/exec?command=ls", true},
		{"GET", "/api/v1/namespaces/d/pods/p/attach", true},
		{"POST", "/api/v1/namespaces/d/pods/p/portforward", true},
		{"GET", "/api/v1/namespaces/d/pods/p/proxy/x", true},
		{"GET", "/api/v1/nodes/n/proxy/stats", true},
		{"GET", "/api/v1/namespaces/d/pods/p/log", false},
		{"GET", "/api/v1/namespaces/d/pods/p/log?follow=true", true},
		{"GET", "/livez", true},
		{"GET", "/readyz/etcd", true},
		{"GET", "/version", false},
		{"GET", "/apis", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.target, nil)
		if got := isLongRunning(r, parseRequestInfo(r)); got != tt.want {
			t.Errorf("%s %s: long-running = %v, want %v", tt.method, tt.target, got, tt.want)
		}
	}
}

func TestNewLimiterDefaults(t *testing.T) {
	tests := []struct {
		in               Limits
		ro, mu, roQ, muQ int
		wantWait         time.Duration
	}{
		{in: Limits{}, ro: 400, mu: 200, roQ: 100, muQ: 50, wantWait: 5 * time.Second},
		{in: Limits{MaxRequestsInflight: 8, MaxMutatingRequestsInflight: -1, QueueWait: time.Second}, ro: 8, mu: -1, roQ: 10, muQ: 10, wantWait: time.Second},
		{in: Limits{MaxRequestsInflight: 100, QueueLengthPerUser: 3}, ro: 100, mu: 200, roQ: 3, muQ: 3, wantWait: 5 * time.Second},
	}
	for _, tt := range tests {
		l := newLimiter(tt.in, clocktesting.NewFakeClock(time.Unix(0, 0)))
		if l.readOnly.seats != tt.ro || l.mutating.seats != tt.mu || l.readOnly.perUser != tt.roQ || l.mutating.perUser != tt.muQ || l.wait != tt.wantWait {
			t.Errorf("%+v: got seats %d/%d queues %d/%d wait %v", tt.in, l.readOnly.seats, l.mutating.seats, l.readOnly.perUser, l.mutating.perUser, l.wait)
		}
	}
}
