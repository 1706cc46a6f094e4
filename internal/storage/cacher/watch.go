package cacher

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// initialEventsEndAnnotation marks the bookmark that ends the initial events
// of a watch with sendInitialEvents=true.
const initialEventsEndAnnotation = "k8s.io/initial-events-end"

// WatchOptions narrow a Watch.
type WatchOptions struct {
	// KeyPrefix is Config.Prefix + "namespace/" for one namespace, or
	// Config.Prefix (the default when empty).
	KeyPrefix string
	// ResourceVersion: "" starts at the store's latest revision, "0" at the
	// cache's, "N" right after N. "" and "0" begin with ADDED events for the
	// current objects unless SendInitialEvents is false.
	ResourceVersion string
	// Label and Field select objects (nil: everything).
	Label labels.Selector
	Field fields.Selector
	// AllowBookmarks asks for periodic BOOKMARK events.
	AllowBookmarks bool
	// SendInitialEvents, when set, says whether to begin with ADDED events
	// for the current objects; when true they end with a BOOKMARK annotated
	// "k8s.io/initial-events-end": "true".
	SendInitialEvents *bool
}

// Watch streams the changes that opts selects. Errors are Kubernetes status
// errors: 410 Gone (ResourceExpired) when ResourceVersion is older than the
// kept history, 504 with cause ResourceVersionTooLarge when the cache does
// not reach it in time, 400 for malformed options.
func (c *Cacher) Watch(ctx context.Context, opts WatchOptions) (watch.Interface, error) {
	prefix, err := c.keyPrefix(opts.KeyPrefix)
	if err != nil {
		return nil, err
	}
	rv, err := parseRV(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	initial := opts.ResourceVersion == "" || opts.ResourceVersion == "0"
	endBookmark := false
	if opts.SendInitialEvents != nil {
		initial, endBookmark = *opts.SendInitialEvents, *opts.SendInitialEvents
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	switch opts.ResourceVersion {
	case "":
		err = c.waitConsistent(ctx)
	case "0":
	default:
		err = c.waitForRev(ctx, rv)
	}
	if err != nil {
		return nil, err
	}
	w := &watcher{
		c:              c,
		ctx:            ctx,
		keyPrefix:      prefix,
		label:          orEverything(opts.Label),
		field:          orEverythingFields(opts.Field),
		allowBookmarks: opts.AllowBookmarks,
		input:          make(chan watch.Event, c.cfg.WatcherBuffer),
		result:         make(chan watch.Event),
		done:           make(chan struct{}),
	}
	initialItems, replay, startRev, err := c.register(w, initial, opts.ResourceVersion, rv)
	if err != nil {
		return nil, err
	}
	var end runtime.Object
	if endBookmark {
		end = c.bookmarkObject(startRev, true)
	}
	go w.run(initialItems, end, replay)
	return w, nil
}

// register adds w to the dispatch set and returns, atomically with that,
// what it must send first: the current objects under its prefix (initial),
// or the history after rv (resume).
func (c *Cacher) register(w *watcher, initial bool, rvText string, rv int64) ([]*item, []*event, int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil, nil, 0, apierrors.NewServiceUnavailable("watch cache is stopped")
	}
	var items []*item
	var replay []*event
	switch {
	case initial:
		for key, it := range c.items {
			if hasKeyPrefix(key, w.keyPrefix) {
				items = append(items, it)
			}
		}
	case rvText != "" && rvText != "0":
		evs, ok := c.hist.since(rv)
		if !ok {
			return nil, nil, 0, apierrors.NewResourceExpired(
				fmt.Sprintf("too old resource version: %d (%d)", rv, c.hist.start+1))
		}
		replay = evs
	}
	w.minRev = c.rev
	c.watchers.add(w)
	return items, replay, c.rev, nil
}

func orEverything(s labels.Selector) labels.Selector {
	if s == nil {
		return labels.Everything()
	}
	return s
}

func orEverythingFields(s fields.Selector) fields.Selector {
	if s == nil {
		return fields.Everything()
	}
	return s
}
