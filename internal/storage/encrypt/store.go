package encrypt

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/skiffkube/skiff/internal/storage"
)

// Options tune a Store.
type Options struct {
	// Path is the configuration file Rotate rewrites; "" keeps rotations
	// in memory only.
	Path string
	// Rand is the source of nonces and new keys; nil means crypto/rand.
	Rand io.Reader
}

// Store encrypts values of the configured resources on their way into the
// wrapped store and decrypts them on the way out.
type Store struct {
	inner storage.Store
	path  string
	rand  io.Reader
	// t is the current transformer, swapped by Rotate.
	t atomic.Pointer[transformer]
	// mu serializes Rotate and guards cfg.
	mu  sync.Mutex
	cfg *Configuration
}

var _ storage.Store = (*Store)(nil)

// New wraps inner with the providers of cfg.
func New(inner storage.Store, cfg *Configuration, opts Options) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	t, err := newTransformer(cfg, opts.Rand)
	if err != nil {
		return nil, err
	}
	s := &Store{inner: inner, path: opts.Path, rand: opts.Rand, cfg: cfg}
	s.t.Store(t)
	return s, nil
}

// Inner is the wrapped store (raw, encrypted values).
func (s *Store) Inner() storage.Store { return s.inner }

func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	sealed, err := s.t.Load().toStorage(key, value)
	if err != nil {
		return 0, err
	}
	return s.inner.Create(ctx, key, sealed)
}

func (s *Store) Get(ctx context.Context, key string) (storage.KeyValue, error) {
	kv, err := s.inner.Get(ctx, key)
	if err != nil {
		return kv, err
	}
	return s.open(s.t.Load(), kv)
}

func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	res, err := s.inner.List(ctx, prefix, opts)
	if err != nil {
		return res, err
	}
	t := s.t.Load()
	items := make([]storage.KeyValue, len(res.Items))
	for i, kv := range res.Items {
		if items[i], err = s.open(t, kv); err != nil {
			return storage.ListResult{}, err
		}
	}
	res.Items = items
	return res, nil
}

func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRevision int64) (int64, error) {
	sealed, err := s.t.Load().toStorage(key, value)
	if err != nil {
		return 0, err
	}
	return s.inner.Update(ctx, key, sealed, expectedRevision)
}

func (s *Store) Delete(ctx context.Context, key string, expectedRevision int64) (storage.KeyValue, int64, error) {
	kv, rev, err := s.inner.Delete(ctx, key, expectedRevision)
	if err != nil {
		return kv, rev, err
	}
	kv, err = s.open(s.t.Load(), kv)
	if err != nil {
		return kv, rev, fmt.Errorf("deleted %q but: %w", key, err)
	}
	return kv, rev, nil
}

// Watch decrypts the events of the inner watch in one goroutine that ends
// when the inner channel closes or ctx is done.
func (s *Store) Watch(ctx context.Context, prefix string, fromRevision int64) <-chan storage.WatchResponse {
	in := s.inner.Watch(ctx, prefix, fromRevision)
	out := make(chan storage.WatchResponse, cap(in))
	go func() {
		defer close(out)
		for resp := range in {
			resp = s.openEvents(resp)
			select {
			case out <- resp:
			case <-ctx.Done():
				return
			}
			if resp.Err != nil {
				return
			}
		}
	}()
	return out
}

// openEvents decrypts a watch response; a failure ends the watch.
func (s *Store) openEvents(resp storage.WatchResponse) storage.WatchResponse {
	if len(resp.Events) == 0 {
		return resp
	}
	t := s.t.Load()
	events := make([]storage.Event, len(resp.Events))
	for i, e := range resp.Events {
		var err error
		if e.Type == storage.EventPut {
			if e.KV, err = s.open(t, e.KV); err != nil {
				return storage.WatchResponse{Err: err}
			}
		}
		if e.PrevKV != nil {
			prev, err := s.open(t, *e.PrevKV)
			if err != nil {
				return storage.WatchResponse{Err: err}
			}
			e.PrevKV = &prev
		}
		events[i] = e
	}
	resp.Events = events
	return resp
}

func (s *Store) open(t *transformer, kv storage.KeyValue) (storage.KeyValue, error) {
	if kv.Value == nil {
		return kv, nil
	}
	v, err := t.fromStorage(kv.Key, kv.Value)
	if err != nil {
		return storage.KeyValue{}, err
	}
	kv.Value = v
	return kv, nil
}

func (s *Store) RequestProgress(ctx context.Context) error { return s.inner.RequestProgress(ctx) }

func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	return s.inner.CurrentRevision(ctx)
}

func (s *Store) Compact(ctx context.Context, revision int64) error {
	return s.inner.Compact(ctx, revision)
}

func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	return s.inner.Count(ctx, prefix)
}

// Close closes the wrapped store.
func (s *Store) Close() error { return s.inner.Close() }
