package storage

import (
	"context"
	"errors"
	"fmt"
)

// UpdateFunc computes a key's new value from its current one. An error
// aborts the update and is returned as is.
type UpdateFunc func(current KeyValue) ([]byte, error)

// GuaranteedUpdate reads key, applies tryUpdate and writes the result with
// a compare-and-swap on the revision it read, retrying on ErrConflict until
// the write lands or ctx ends. It returns the written value.
func GuaranteedUpdate(ctx context.Context, s Store, key string, tryUpdate UpdateFunc) (KeyValue, error) {
	for {
		current, err := s.Get(ctx, key)
		if err != nil {
			return KeyValue{}, err
		}
		value, err := tryUpdate(current)
		if err != nil {
			return KeyValue{}, err
		}
		rev, err := s.Update(ctx, key, value, current.ModRevision)
		switch {
		case err == nil:
			return KeyValue{Key: key, Value: value, ModRevision: rev, CreateRevision: current.CreateRevision}, nil
		case !errors.Is(err, ErrConflict):
			return KeyValue{}, err
		case ctx.Err() != nil:
			return KeyValue{}, fmt.Errorf("update %q: %w", key, ctx.Err())
		}
	}
}
