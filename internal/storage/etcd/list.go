package etcd

import (
	"context"
	"fmt"
	"strings"

	"github.com/skiffkube/skiff/internal/storage"
	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// List reads the keys under prefix, sorted by key, optionally at an old
// revision and one page at a time (Limit, StartKey).
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	if opts.StartKey != "" && !strings.HasPrefix(opts.StartKey, prefix) {
		return storage.ListResult{}, fmt.Errorf("list %q: start key %q is outside the prefix", prefix, opts.StartKey)
	}
	key, rangeOpts := prefixRange(prefix)
	if opts.StartKey != "" {
		key = opts.StartKey
		rangeOpts = []clientv3.OpOption{clientv3.WithRange(rangeEnd(prefix))}
	}
	if opts.Revision > 0 {
		rangeOpts = append(rangeOpts, clientv3.WithRev(opts.Revision))
	}
	if opts.Limit > 0 {
		rangeOpts = append(rangeOpts, clientv3.WithLimit(opts.Limit))
	}
	resp, err := s.client.Get(ctx, key, rangeOpts...)
	if err != nil {
		return storage.ListResult{}, mapErr(fmt.Sprintf("list %q at revision %d", prefix, opts.Revision), err)
	}
	res := storage.ListResult{
		Items:    make([]storage.KeyValue, 0, len(resp.Kvs)),
		Revision: resp.Header.Revision,
		More:     resp.More,
	}
	if opts.Revision > 0 {
		// The header carries the newest revision; the data is as of opts.Revision.
		res.Revision = opts.Revision
	}
	for _, kv := range resp.Kvs {
		res.Items = append(res.Items, toKeyValue(kv))
	}
	if res.More {
		res.Remaining = resp.Count - int64(len(resp.Kvs))
	}
	return res, nil
}

// prefixRange returns the first key and the options that select every key
// under prefix ("" selects the whole keyspace).
func prefixRange(prefix string) (string, []clientv3.OpOption) {
	if prefix == "" {
		return "\x00", []clientv3.OpOption{clientv3.WithFromKey()}
	}
	return prefix, []clientv3.OpOption{clientv3.WithRange(rangeEnd(prefix))}
}

// rangeEnd is the first key after every key that starts with prefix ("\x00",
// meaning "to the end", when there is none).
func rangeEnd(prefix string) string {
	if prefix == "" {
		return "\x00"
	}
	return clientv3.GetPrefixRangeEnd(prefix)
}

// toKeyValue converts an etcd key-value pair.
func toKeyValue(kv *mvccpb.KeyValue) storage.KeyValue {
	return storage.KeyValue{
		Key:            string(kv.Key),
		Value:          kv.Value,
		ModRevision:    kv.ModRevision,
		CreateRevision: kv.CreateRevision,
	}
}
