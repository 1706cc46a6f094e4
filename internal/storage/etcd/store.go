package etcd

import (
	"context"
	"errors"
	"fmt"

	"github.com/skiffkube/skiff/internal/storage"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Store is a storage.Store backed by an etcd v3 client.
type Store struct {
	// client is owned by the Store and closed by Close.
	client *clientv3.Client
}

var _ storage.Store = (*Store)(nil)

// New returns a Store over client. The Store takes ownership of the client:
// Close closes it.
func New(client *clientv3.Client) *Store {
	return &Store{client: client}
}

// Client returns the underlying etcd client (for benchmarks and health
// checks); it stays owned by the Store.
func (s *Store) Client() *clientv3.Client {
	return s.client
}

// Close closes the etcd client.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("close etcd client: %w", err)
	}
	return nil
}

// Create writes key only if it does not exist yet.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(value))).
		Commit()
	if err != nil {
		return 0, mapErr(fmt.Sprintf("create %q", key), err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("create %q: %w", key, storage.ErrKeyExists)
	}
	return resp.Header.Revision, nil
}

// Get reads one key.
func (s *Store) Get(ctx context.Context, key string) (storage.KeyValue, error) {
	resp, err := s.client.Get(ctx, key)
	if err != nil {
		return storage.KeyValue{}, mapErr(fmt.Sprintf("get %q", key), err)
	}
	if len(resp.Kvs) == 0 {
		return storage.KeyValue{}, fmt.Errorf("get %q: %w", key, storage.ErrNotFound)
	}
	return toKeyValue(resp.Kvs[0]), nil
}

// Update replaces key if its ModRevision is expectedRevision. A missing key
// gives ErrNotFound, another revision ErrConflict.
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRevision int64) (int64, error) {
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(key), "=", expectedRevision)}
	if expectedRevision <= 0 {
		// ModRevision is 0 only for a missing key: never create here.
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(key), ">", 0))
	}
	resp, err := s.client.Txn(ctx).
		If(cmps...).
		Then(clientv3.OpPut(key, string(value))).
		Else(clientv3.OpGet(key, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return 0, mapErr(fmt.Sprintf("update %q", key), err)
	}
	if !resp.Succeeded {
		return 0, preconditionFailed("update", key, expectedRevision, resp)
	}
	return resp.Header.Revision, nil
}

// Delete removes key, when expectedRevision is non-zero only if its
// ModRevision matches. It returns the deleted value and the deletion revision.
func (s *Store) Delete(ctx context.Context, key string, expectedRevision int64) (storage.KeyValue, int64, error) {
	if expectedRevision == 0 {
		resp, err := s.client.Delete(ctx, key, clientv3.WithPrevKV())
		if err != nil {
			return storage.KeyValue{}, 0, mapErr(fmt.Sprintf("delete %q", key), err)
		}
		if resp.Deleted == 0 || len(resp.PrevKvs) == 0 {
			return storage.KeyValue{}, 0, fmt.Errorf("delete %q: %w", key, storage.ErrNotFound)
		}
		return toKeyValue(resp.PrevKvs[0]), resp.Header.Revision, nil
	}
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", expectedRevision)).
		Then(clientv3.OpDelete(key, clientv3.WithPrevKV())).
		Else(clientv3.OpGet(key, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return storage.KeyValue{}, 0, mapErr(fmt.Sprintf("delete %q", key), err)
	}
	if !resp.Succeeded {
		return storage.KeyValue{}, 0, preconditionFailed("delete", key, expectedRevision, resp)
	}
	del := resp.Responses[0].GetResponseDeleteRange()
	if del == nil || len(del.PrevKvs) == 0 {
		return storage.KeyValue{}, 0, fmt.Errorf("delete %q: %w", key, storage.ErrNotFound)
	}
	return toKeyValue(del.PrevKvs[0]), resp.Header.Revision, nil
}

// CurrentRevision returns etcd's latest revision (a linearizable read).
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, "/", clientv3.WithCountOnly())
	if err != nil {
		return 0, mapErr("read current revision", err)
	}
	return resp.Header.Revision, nil
}

// Compact discards history older than revision.
func (s *Store) Compact(ctx context.Context, revision int64) error {
	if _, err := s.client.Compact(ctx, revision); err != nil {
		return mapErr(fmt.Sprintf("compact at revision %d", revision), err)
	}
	return nil
}

// Count returns the number of keys under prefix.
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	key, opts := prefixRange(prefix)
	resp, err := s.client.Get(ctx, key, append(opts, clientv3.WithCountOnly())...)
	if err != nil {
		return 0, mapErr(fmt.Sprintf("count %q", prefix), err)
	}
	return resp.Count, nil
}

// preconditionFailed explains a failed compare of an Update or Delete
// transaction whose Else branch read the key.
func preconditionFailed(op, key string, expected int64, resp *clientv3.TxnResponse) error {
	var got []*clientv3.GetResponse
	for _, r := range resp.Responses {
		if rr := r.GetResponseRange(); rr != nil {
			got = append(got, (*clientv3.GetResponse)(rr))
		}
	}
	if len(got) == 0 || len(got[0].Kvs) == 0 {
		return fmt.Errorf("%s %q: %w", op, key, storage.ErrNotFound)
	}
	return fmt.Errorf("%s %q: expected revision %d, found %d: %w",
		op, key, expected, got[0].Kvs[0].ModRevision, storage.ErrConflict)
}

// mapErr wraps an etcd error with context, turning etcd's compaction and
// future-revision errors into the storage sentinels.
func mapErr(what string, err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("%s: %w (%v)", what, storage.ErrCompacted, err)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("%s: %w (%v)", what, storage.ErrFutureRevision, err)
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
}
