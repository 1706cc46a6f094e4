package cacher

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	"github.com/skiffkube/skiff/internal/storage"
)

// Defaults used when a Config field is zero.
const (
	DefaultEventCapacity    = 10000
	DefaultBookmarkInterval = time.Minute
	DefaultWaitTimeout      = 3 * time.Second
	DefaultWatcherBuffer    = 256
	DefaultDispatchTimeout  = 100 * time.Millisecond
	// progressInterval is how often a reader waiting for a revision asks the
	// store for a progress notification.
	progressInterval = 100 * time.Millisecond
)

// Config configures a Cacher for one resource type.
type Config struct {
	// Store is the backing store.
	Store storage.Store
	// Prefix is the key prefix of the resource, ending in "/"
	// (e.g. "/registry/pods/"); keys are Prefix + [namespace/]name.
	Prefix string
	// Decode turns a stored value into a typed object whose
	// metadata.resourceVersion is kv.ModRevision.
	Decode func(kv storage.KeyValue) (runtime.Object, error)
	// NewFunc returns an empty object of the type, used for bookmarks.
	NewFunc func() runtime.Object
	// Attrs returns the label and field sets that selectors match against.
	// Default: the object's labels, and fields metadata.name and
	// metadata.namespace.
	Attrs func(obj runtime.Object) (labels.Set, fields.Set, error)
	// IndexField optionally names a field of Attrs (e.g. "spec.nodeName")
	// by which watchers are indexed: a watcher whose field selector requires
	// an exact value of it only receives events of objects that have (or
	// had) that value. This keeps fan-out cheap for per-node watches.
	IndexField string
	// Clock is the time source (tests use a fake clock). Default: real.
	Clock clock.WithTicker
	// EventCapacity is how many recent events are kept to resume watches.
	EventCapacity int
	// BookmarkInterval is the period of BOOKMARK events to watchers that
	// allow them.
	BookmarkInterval time.Duration
	// WaitTimeout bounds how long a read waits for the cache to reach a
	// requested resourceVersion (then: "Too large resource version").
	WaitTimeout time.Duration
	// WatcherBuffer is the number of events buffered per watcher.
	WatcherBuffer int
	// DispatchTimeout is how long one dispatch may wait for watchers whose
	// buffer is full before terminating them.
	DispatchTimeout time.Duration
	// Logger receives decode failures and store watch restarts. Default:
	// discard.
	Logger *slog.Logger
}

// withDefaults validates cfg and fills in the zero fields.
func (cfg Config) withDefaults() (Config, error) {
	switch {
	case cfg.Store == nil:
		return cfg, errors.New("cacher: Config.Store is required")
	case cfg.Decode == nil:
		return cfg, errors.New("cacher: Config.Decode is required")
	case cfg.NewFunc == nil:
		return cfg, errors.New("cacher: Config.NewFunc is required")
	case !strings.HasSuffix(cfg.Prefix, "/"):
		return cfg, fmt.Errorf("cacher: Config.Prefix %q must end in /", cfg.Prefix)
	}
	if cfg.Attrs == nil {
		cfg.Attrs = DefaultAttrs
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.EventCapacity <= 0 {
		cfg.EventCapacity = DefaultEventCapacity
	}
	if cfg.BookmarkInterval <= 0 {
		cfg.BookmarkInterval = DefaultBookmarkInterval
	}
	if cfg.WaitTimeout <= 0 {
		cfg.WaitTimeout = DefaultWaitTimeout
	}
	if cfg.WatcherBuffer <= 0 {
		cfg.WatcherBuffer = DefaultWatcherBuffer
	}
	if cfg.DispatchTimeout <= 0 {
		cfg.DispatchTimeout = DefaultDispatchTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg, nil
}

// DefaultAttrs returns the object's labels and the fields metadata.name and
// metadata.namespace.
func DefaultAttrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, fmt.Errorf("cacher: object metadata: %w", err)
	}
	f := fields.Set{"metadata.name": m.GetName(), "metadata.namespace": m.GetNamespace()}
	return labels.Set(m.GetLabels()), f, nil
}
