package storage

import (
	"context"
	"errors"
)

// Errors every Store returns (wrapped or not; test with errors.Is).
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("storage: key not found")
	// ErrKeyExists: Create found the key already present.
	ErrKeyExists = errors.New("storage: key already exists")
	// ErrConflict: the expected revision of an Update or Delete did not match.
	ErrConflict = errors.New("storage: revision conflict")
	// ErrCompacted: the requested revision has been compacted away.
	ErrCompacted = errors.New("storage: revision compacted")
	// ErrFutureRevision: the requested revision is newer than the store's.
	ErrFutureRevision = errors.New("storage: revision is in the future")
)

// KeyValue is one stored value with the revision that last modified it.
type KeyValue struct {
	Key   string
	Value []byte
	// ModRevision is the store revision of the last write of this key; it is
	// the object's resourceVersion.
	ModRevision int64
	// CreateRevision is the store revision that created this key.
	CreateRevision int64
}

// ListOptions narrow a List.
type ListOptions struct {
	// Revision reads the prefix as of that store revision; 0 means latest.
	Revision int64
	// Limit caps the number of items returned; 0 means no limit.
	Limit int64
	// StartKey continues a paginated list: only keys >= StartKey are returned.
	StartKey string
}

// ListResult is one page of a List.
type ListResult struct {
	Items []KeyValue
	// Revision is the store revision the list was read at.
	Revision int64
	// More reports that keys remain after the last item (paginated list).
	More bool
	// Remaining counts the keys after the last item when More is true.
	Remaining int64
}

// EventType says what happened to a key.
type EventType int

const (
	EventPut EventType = iota + 1
	EventDelete
)

// Event is one change seen by a watch.
type Event struct {
	Type EventType
	// KV is the new value (for a delete: Key and ModRevision of the deletion,
	// no Value).
	KV KeyValue
	// PrevKV is the value before this change (always set for deletes and for
	// puts that updated an existing key; nil for creates).
	PrevKV *KeyValue
	// Created reports that a put created the key.
	Created bool
}

// WatchResponse is a batch of events, or the error that ended the watch.
// A closed channel without error means the context was cancelled.
type WatchResponse struct {
	Events []Event
	// Err ends the watch (for example ErrCompacted).
	Err error
	// ProgressRevision, when non-zero and Events is empty, tells the watcher
	// that the store has reached this revision (a progress notification).
	ProgressRevision int64
}

// Store is the storage contract. Keys are plain strings
// ("/registry/pods/default/web"); values are opaque bytes. Every method is
// safe for concurrent use.
type Store interface {
	// Create writes key only if it does not exist (ErrKeyExists otherwise)
	// and returns the new revision.
	Create(ctx context.Context, key string, value []byte) (int64, error)
	// Get reads one key (ErrNotFound if absent).
	Get(ctx context.Context, key string) (KeyValue, error)
	// List reads every key under prefix, sorted by key.
	List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error)
	// Update replaces key only if its ModRevision is expectedRevision
	// (ErrConflict otherwise, ErrNotFound if absent) and returns the new
	// revision.
	Update(ctx context.Context, key string, value []byte, expectedRevision int64) (int64, error)
	// Delete removes key; when expectedRevision is non-zero, only if its
	// ModRevision matches (ErrConflict otherwise). It returns the deleted
	// value and the revision of the deletion.
	Delete(ctx context.Context, key string, expectedRevision int64) (KeyValue, int64, error)
	// Watch streams changes to keys under prefix that happen after revision
	// fromRevision (0: from now). The channel closes when ctx is done or
	// after a response with Err. Progress notifications arrive when
	// RequestProgress is called.
	Watch(ctx context.Context, prefix string, fromRevision int64) <-chan WatchResponse
	// RequestProgress asks every watch of this store to report the current
	// revision (used to keep caches fresh without writes). A store may skip
	// a request it cannot answer yet (etcd does while a watch is catching up
	// or waits for its start revision), so callers repeat it.
	RequestProgress(ctx context.Context) error
	// CurrentRevision returns the store's latest revision.
	CurrentRevision(ctx context.Context) (int64, error)
	// Compact discards history older than revision.
	Compact(ctx context.Context, revision int64) error
	// Count returns the number of keys under prefix.
	Count(ctx context.Context, prefix string) (int64, error)
	// Close releases the store's resources.
	Close() error
}
