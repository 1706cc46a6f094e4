package storagetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/storage"
)

// testTimeout bounds every subtest, including its waits on watches.
const testTimeout = 30 * time.Second

// Run runs the storage contract against the stores newStore returns.
//
// newStore is called once per subtest and owns the store's cleanup
// (t.Cleanup). It may hand back a store shared between subtests: each
// subtest writes under its own key prefix and reads only revisions it saw.
// The subtests run one after the other (some compact the store).
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store, prefix string)
	}{
		{"CreateAndExists", testCreateAndExists},
		{"GetNotFound", testGetNotFound},
		{"CurrentRevision", testCurrentRevision},
		{"UpdateCAS", testUpdateCAS},
		{"DeleteWithoutPrecondition", testDeleteWithoutPrecondition},
		{"DeleteWithPrecondition", testDeleteWithPrecondition},
		{"ListSorted", testListSorted},
		{"ListPagination", testListPagination},
		{"ListAtRevision", testListAtRevision},
		{"ListBadRevision", testListBadRevision},
		{"Count", testCount},
		{"WatchFromNow", testWatchFromNow},
		{"WatchFromPastRevision", testWatchFromPastRevision},
		{"WatchCompacted", testWatchCompacted},
		{"WatchCancel", testWatchCancel},
		{"RequestProgress", testRequestProgress},
		{"ConcurrentCASIncrements", testConcurrentCAS},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tc.fn(t, s, fmt.Sprintf("/storagetest/%s/", t.Name()))
		})
	}
}

// testContext returns a context that ends with the subtest or after
// testTimeout.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// mustCreate creates key and returns its revision.
func mustCreate(t *testing.T, s storage.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Create(testContext(t), key, []byte(value))
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	if rev <= 0 {
		t.Fatalf("Create(%q) returned revision %d, want > 0", key, rev)
	}
	return rev
}

// mustUpdate updates key at expected and returns the new revision.
func mustUpdate(t *testing.T, s storage.Store, key, value string, expected int64) int64 {
	t.Helper()
	rev, err := s.Update(testContext(t), key, []byte(value), expected)
	if err != nil {
		t.Fatalf("Update(%q, rev %d): %v", key, expected, err)
	}
	if rev <= expected {
		t.Fatalf("Update(%q, rev %d) returned revision %d, want > %d", key, expected, rev, expected)
	}
	return rev
}

// mustDelete deletes key without precondition and returns the deletion
// revision.
func mustDelete(t *testing.T, s storage.Store, key string) int64 {
	t.Helper()
	_, rev, err := s.Delete(testContext(t), key, 0)
	if err != nil {
		t.Fatalf("Delete(%q): %v", key, err)
	}
	return rev
}

// wantErr fails unless err wraps want.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// wantKV fails unless kv has the key, value and revisions.
func wantKV(t *testing.T, what string, kv storage.KeyValue, key, value string, mod, create int64) {
	t.Helper()
	if kv.Key != key || string(kv.Value) != value || kv.ModRevision != mod || kv.CreateRevision != create {
		t.Fatalf("%s: got {%q %q mod %d create %d}, want {%q %q mod %d create %d}",
			what, kv.Key, kv.Value, kv.ModRevision, kv.CreateRevision, key, value, mod, create)
	}
}
