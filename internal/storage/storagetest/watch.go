package storagetest

import (
	"context"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/storage"
)

// progressWait is how long one progress request is given to be answered
// before it is sent again (a store may skip a request it cannot answer yet).
const progressWait = time.Second

// wantEvent describes one expected watch event.
type wantEvent struct {
	typ     storage.EventType
	key     string
	value   string
	rev     int64
	created bool
	// prevValue and prevRev describe PrevKV; prevRev 0 means no PrevKV.
	prevValue string
	prevRev   int64
}

func testWatchFromNow(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	mustCreate(t, s, prefix+"old", "before the watch")
	ch := s.Watch(ctx, prefix, 0)
	r1 := mustCreate(t, s, prefix+"a", "v1")
	mustCreate(t, s, prefix[:len(prefix)-1]+"0", "outside the prefix")
	r2 := mustUpdate(t, s, prefix+"a", "v2", r1)
	r3 := mustDelete(t, s, prefix+"a")
	expectEvents(t, ch, []wantEvent{
		{typ: storage.EventPut, key: prefix + "a", value: "v1", rev: r1, created: true},
		{typ: storage.EventPut, key: prefix + "a", value: "v2", rev: r2, prevValue: "v1", prevRev: r1},
		{typ: storage.EventDelete, key: prefix + "a", rev: r3, prevValue: "v2", prevRev: r2},
	})
	expectFence(t, s, ch, prefix)
}

func testWatchFromPastRevision(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	r1 := mustCreate(t, s, prefix+"a", "v1")
	r2 := mustUpdate(t, s, prefix+"a", "v2", r1)
	r3 := mustDelete(t, s, prefix+"a")
	r4 := mustCreate(t, s, prefix+"b", "b1")
	ch := s.Watch(ctx, prefix, r1)
	r5 := mustUpdate(t, s, prefix+"b", "b2", r4)
	expectEvents(t, ch, []wantEvent{
		{typ: storage.EventPut, key: prefix + "a", value: "v2", rev: r2, prevValue: "v1", prevRev: r1},
		{typ: storage.EventDelete, key: prefix + "a", rev: r3, prevValue: "v2", prevRev: r2},
		{typ: storage.EventPut, key: prefix + "b", value: "b1", rev: r4, created: true},
		{typ: storage.EventPut, key: prefix + "b", value: "b2", rev: r5, prevValue: "b1", prevRev: r4},
	})
	expectFence(t, s, ch, prefix)
}

func testWatchCompacted(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	r1 := mustCreate(t, s, prefix+"a", "v1")
	r2 := mustUpdate(t, s, prefix+"a", "v2", r1)
	r3 := mustUpdate(t, s, prefix+"a", "v3", r2)
	if err := s.Compact(ctx, r3); err != nil {
		t.Fatalf("Compact(%d): %v", r3, err)
	}
	ch := s.Watch(ctx, prefix, r1)
	resp := next(t, ch)
	wantErr(t, "watch from a compacted revision", resp.Err, storage.ErrCompacted)
	if len(resp.Events) != 0 {
		t.Fatalf("the error response carries events: %+v", resp.Events)
	}
	expectClosed(t, ch)
}

func testWatchCancel(t *testing.T, s storage.Store, prefix string) {
	ctx, cancel := context.WithCancel(testContext(t))
	ch := s.Watch(ctx, prefix, 0)
	r1 := mustCreate(t, s, prefix+"a", "v1")
	expectEvents(t, ch, []wantEvent{{typ: storage.EventPut, key: prefix + "a", value: "v1", rev: r1, created: true}})
	cancel()
	timeout := time.After(testTimeout)
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				return
			}
			if resp.Err != nil {
				t.Fatalf("cancelled watch ended with error %v, want a plain close", resp.Err)
			}
		case <-timeout:
			t.Fatalf("watch channel not closed %v after cancel", testTimeout)
		}
	}
}

func testRequestProgress(t *testing.T, s storage.Store, prefix string) {
	ctx := testContext(t)
	r1 := mustCreate(t, s, prefix+"a", "v1")
	r2 := mustUpdate(t, s, prefix+"a", "v2", r1)
	ch := s.Watch(ctx, prefix, r1)
	mustCreate(t, s, prefix[:len(prefix)-1]+"0", "outside the prefix")
	cur, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatalf("CurrentRevision: %v", err)
	}
	expectEvents(t, ch, []wantEvent{{typ: storage.EventPut, key: prefix + "a", value: "v2", rev: r2, prevValue: "v1", prevRev: r1}})
	deadline := time.After(testTimeout)
	for {
		if err := s.RequestProgress(ctx); err != nil {
			t.Fatalf("RequestProgress: %v", err)
		}
		wait := time.After(progressWait)
	waitLoop:
		for {
			select {
			case resp, ok := <-ch:
				if !ok || resp.Err != nil || len(resp.Events) != 0 {
					t.Fatalf("waiting for progress: got %+v (open %v)", resp, ok)
				}
				if resp.ProgressRevision >= cur {
					return
				}
				if resp.ProgressRevision < r2 {
					t.Fatalf("progress revision %d is older than the last event (%d)", resp.ProgressRevision, r2)
				}
			case <-wait:
				break waitLoop
			case <-deadline:
				t.Fatalf("no progress notification at revision >= %d within %v", cur, testTimeout)
			}
		}
	}
}

// expectEvents reads responses until it has len(want) events and checks
// them; progress notifications in between are allowed.
func expectEvents(t *testing.T, ch <-chan storage.WatchResponse, want []wantEvent) {
	t.Helper()
	var got []storage.Event
	for len(got) < len(want) {
		resp := next(t, ch)
		if resp.Err != nil {
			t.Fatalf("watch ended with %v after %d of %d events", resp.Err, len(got), len(want))
		}
		got = append(got, resp.Events...)
	}
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		checkEvent(t, i, got[i], w)
	}
}

// checkEvent fails unless e matches w.
func checkEvent(t *testing.T, i int, e storage.Event, w wantEvent) {
	t.Helper()
	if e.Type != w.typ || e.KV.Key != w.key || e.KV.ModRevision != w.rev || e.Created != w.created {
		t.Fatalf("event %d: type %d key %q rev %d created %v, want type %d key %q rev %d created %v",
			i, e.Type, e.KV.Key, e.KV.ModRevision, e.Created, w.typ, w.key, w.rev, w.created)
	}
	if w.typ == storage.EventPut && string(e.KV.Value) != w.value {
		t.Fatalf("event %d: value %q, want %q", i, e.KV.Value, w.value)
	}
	if w.prevRev == 0 {
		if e.PrevKV != nil {
			t.Fatalf("event %d: unexpected PrevKV %+v", i, *e.PrevKV)
		}
		return
	}
	if e.PrevKV == nil {
		t.Fatalf("event %d: no PrevKV, want %q at %d", i, w.prevValue, w.prevRev)
	}
	if e.PrevKV.Key != w.key || string(e.PrevKV.Value) != w.prevValue || e.PrevKV.ModRevision != w.prevRev {
		t.Fatalf("event %d: PrevKV %q=%q at %d, want %q at %d",
			i, e.PrevKV.Key, e.PrevKV.Value, e.PrevKV.ModRevision, w.prevValue, w.prevRev)
	}
}

// expectFence writes a fence key under prefix and checks that it is the very
// next event: the watch delivered nothing beyond what was expected.
func expectFence(t *testing.T, s storage.Store, ch <-chan storage.WatchResponse, prefix string) {
	t.Helper()
	rev := mustCreate(t, s, prefix+"zz-fence", "fence")
	expectEvents(t, ch, []wantEvent{{typ: storage.EventPut, key: prefix + "zz-fence", value: "fence", rev: rev, created: true}})
}

// next returns the next response that is not a bare progress notification.
func next(t *testing.T, ch <-chan storage.WatchResponse) storage.WatchResponse {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case resp, ok := <-ch:
			if !ok {
				t.Fatalf("watch channel closed early")
			}
			if resp.Err == nil && len(resp.Events) == 0 {
				continue // progress notification
			}
			return resp
		case <-timeout:
			t.Fatalf("no watch response within %v", testTimeout)
		}
	}
}

// expectClosed fails unless ch closes (after an error response).
func expectClosed(t *testing.T, ch <-chan storage.WatchResponse) {
	t.Helper()
	select {
	case resp, ok := <-ch:
		if ok {
			t.Fatalf("watch still open after its error: got %+v", resp)
		}
	case <-time.After(testTimeout):
		t.Fatalf("watch channel not closed after its error")
	}
}
