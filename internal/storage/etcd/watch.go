package etcd

import (
	"context"
	"errors"
	"fmt"

	"github.com/skiffkube/skiff/internal/storage"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// watchBuffer is the number of responses a watch holds for a slow reader
// before it stops reading from etcd.
const watchBuffer = 64

// Watch streams the changes under prefix after fromRevision. With
// fromRevision 0, Watch blocks until etcd has registered the watch (or ctx
// ends), so every change made after Watch returns is seen.
//
// etcd answers RequestProgress only while every watch of the client is in
// sync and has reached its start revision; a watch opened at the current
// revision gets progress notifications after the next write to etcd.
func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) <-chan storage.WatchResponse {
	wctx, cancel := context.WithCancel(watchContext(ctx))
	key, opts := prefixRange(prefix)
	opts = append(opts, clientv3.WithPrevKV(), clientv3.WithProgressNotify())
	if fromRevision > 0 {
		opts = append(opts, clientv3.WithRev(fromRevision+1))
	} else {
		opts = append(opts, clientv3.WithCreatedNotify())
	}
	w := &watch{
		ctx:    wctx,
		cancel: cancel,
		what:   fmt.Sprintf("watch %q from revision %d", prefix, fromRevision),
		in:     s.client.Watch(wctx, key, opts...),
		out:    make(chan storage.WatchResponse, watchBuffer),
	}
	var first *clientv3.WatchResponse
	if fromRevision == 0 {
		first = w.awaitCreated()
	}
	go w.run(first)
	return w.out
}

// RequestProgress asks etcd to send a progress notification on every watch
// of this Store.
func (s *Store) RequestProgress(ctx context.Context) error {
	if err := s.client.RequestProgress(watchContext(ctx)); err != nil {
		return fmt.Errorf("request watch progress: %w", err)
	}
	return nil
}

// watchContext gives every watch and progress request the same gRPC
// metadata, so that they share one etcd watch stream (progress requests
// reach only the watches of the stream they are sent on). Watches fail
// instead of hanging when etcd loses its leader.
func watchContext(ctx context.Context) context.Context {
	return clientv3.WithRequireLeader(ctx)
}

// watch translates one etcd watch channel into storage responses.
type watch struct {
	ctx    context.Context
	cancel context.CancelFunc
	// what names the watch in errors.
	what string
	in   clientv3.WatchChan
	out  chan storage.WatchResponse
}

// awaitCreated waits for etcd's "created" response. It returns the first
// response when that is not the plain creation notice (an error, say).
func (w *watch) awaitCreated() *clientv3.WatchResponse {
	select {
	case wr, ok := <-w.in:
		if !ok {
			return nil
		}
		if wr.Created && wr.Err() == nil && len(wr.Events) == 0 {
			return nil
		}
		return &wr
	case <-w.ctx.Done():
		return nil
	}
}

// run forwards responses until the watch ends, then closes out.
func (w *watch) run(first *clientv3.WatchResponse) {
	defer close(w.out)
	defer w.cancel()
	if first != nil && !w.forward(*first) {
		return
	}
	for {
		select {
		case wr, ok := <-w.in:
			if !ok {
				if w.ctx.Err() == nil {
					w.send(storage.WatchResponse{Err: fmt.Errorf("%s: etcd closed the watch", w.what)})
				}
				return
			}
			if !w.forward(wr) {
				return
			}
		case <-w.ctx.Done():
			return
		}
	}
}

// forward converts and sends one etcd response; false ends the watch.
func (w *watch) forward(wr clientv3.WatchResponse) bool {
	switch {
	case wr.CompactRevision != 0:
		w.send(storage.WatchResponse{Err: fmt.Errorf("%s: history compacted at revision %d: %w",
			w.what, wr.CompactRevision, storage.ErrCompacted)})
		return false
	case wr.Err() != nil:
		err := wr.Err()
		if errors.Is(err, context.Canceled) && w.ctx.Err() != nil {
			return false
		}
		w.send(storage.WatchResponse{Err: mapErr(w.what, err)})
		return false
	case wr.IsProgressNotify():
		return w.send(storage.WatchResponse{ProgressRevision: wr.Header.Revision})
	case len(wr.Events) == 0:
		return true // creation notice
	}
	resp := storage.WatchResponse{Events: make([]storage.Event, 0, len(wr.Events))}
	for _, e := range wr.Events {
		resp.Events = append(resp.Events, toEvent(e))
	}
	return w.send(resp)
}

// send delivers resp unless the watcher has gone away.
func (w *watch) send(resp storage.WatchResponse) bool {
	select {
	case w.out <- resp:
		return true
	case <-w.ctx.Done():
		return false
	}
}

// toEvent converts an etcd event.
func toEvent(e *clientv3.Event) storage.Event {
	ev := storage.Event{Type: storage.EventPut, KV: toKeyValue(e.Kv)}
	if e.Type == mvccpb.DELETE {
		ev.Type = storage.EventDelete
	} else {
		ev.Created = e.IsCreate()
	}
	if e.PrevKv != nil {
		prev := toKeyValue(e.PrevKv)
		ev.PrevKV = &prev
	}
	return ev
}
