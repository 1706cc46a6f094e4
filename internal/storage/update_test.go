package storage

import (
	"context"
	"errors"
	"testing"
)

// casStore is a one-key Store whose Update conflicts a set number of times.
type casStore struct {
	Store     // unused methods panic
	kv        KeyValue
	conflicts int
	updateErr error
	updates   int
}

func (s *casStore) Get(_ context.Context, key string) (KeyValue, error) {
	if key != s.kv.Key {
		return KeyValue{}, ErrNotFound
	}
	return s.kv, nil
}

func (s *casStore) Update(_ context.Context, _ string, value []byte, expected int64) (int64, error) {
	s.updates++
	if s.updateErr != nil {
		return 0, s.updateErr
	}
	if s.conflicts > 0 {
		s.conflicts--
		s.kv.ModRevision++ // someone else wrote
		return 0, ErrConflict
	}
	if expected != s.kv.ModRevision {
		return 0, ErrConflict
	}
	s.kv.Value = value
	s.kv.ModRevision++
	return s.kv.ModRevision, nil
}

func TestGuaranteedUpdate(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name        string
		key         string
		conflicts   int
		updateErr   error
		tryErr      error
		wantErr     error
		wantUpdates int
		wantRev     int64
	}{
		{name: "first try", key: "k", wantUpdates: 1, wantRev: 11},
		{name: "retries conflicts", key: "k", conflicts: 3, wantUpdates: 4, wantRev: 14},
		{name: "missing key", key: "other", wantErr: ErrNotFound},
		{name: "tryUpdate fails", key: "k", tryErr: errBoom, wantErr: errBoom},
		{name: "update fails", key: "k", updateErr: errBoom, wantErr: errBoom, wantUpdates: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &casStore{kv: KeyValue{Key: "k", Value: []byte("a"), ModRevision: 10, CreateRevision: 5},
				conflicts: c.conflicts, updateErr: c.updateErr}
			kv, err := GuaranteedUpdate(context.Background(), s, c.key, func(cur KeyValue) ([]byte, error) {
				if c.tryErr != nil {
					return nil, c.tryErr
				}
				return append(append([]byte{}, cur.Value...), 'b'), nil
			})
			if !errors.Is(err, c.wantErr) || (c.wantErr == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, c.wantErr)
			}
			if s.updates != c.wantUpdates {
				t.Fatalf("%d updates, want %d", s.updates, c.wantUpdates)
			}
			if c.wantErr == nil && (string(kv.Value) != "ab" || kv.ModRevision != c.wantRev || kv.CreateRevision != 5) {
				t.Fatalf("result %+v, want value ab at %d created 5", kv, c.wantRev)
			}
		})
	}
}

func TestGuaranteedUpdateStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &casStore{kv: KeyValue{Key: "k", ModRevision: 1}, conflicts: 1 << 30}
	_, err := GuaranteedUpdate(ctx, s, "k", func(KeyValue) ([]byte, error) {
		cancel()
		return []byte("x"), nil
	})
	if !errors.Is(err, context.Canceled) || s.updates != 1 {
		t.Fatalf("error %v after %d updates, want context.Canceled after 1", err, s.updates)
	}
}
