package cacher

import (
	"context"
	"errors"
	"fmt"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/skiffkube/skiff/internal/storage"
)

// maxFetch caps one store read when a selector makes pages sparse.
const maxFetch = 10000

// ListOptions narrow a List.
type ListOptions struct {
	// KeyPrefix is Config.Prefix + "namespace/" for one namespace, or
	// Config.Prefix (the default when empty).
	KeyPrefix string
	// ResourceVersion and ResourceVersionMatch follow the Kubernetes
	// semantics for list: "" most recent, "0" any, "N" not older than N
	// (or exactly N with match Exact, or with a Limit and no match).
	ResourceVersion      string
	ResourceVersionMatch metav1.ResourceVersionMatch
	// Label and Field select objects (nil: everything).
	Label labels.Selector
	Field fields.Selector
	// Limit asks for pages of at most Limit items (ignored with
	// ResourceVersion "0", as upstream does); Continue resumes a list.
	Limit    int64
	Continue string
}

// ListResult is one list (or page).
type ListResult struct {
	// Items are sorted by key. They may be shared with the cache and other
	// callers: never mutate them.
	Items []runtime.Object
	// ResourceVersion is the revision the list reflects.
	ResourceVersion int64
	// Continue resumes the list when more items remain.
	Continue string
	// RemainingItemCount counts the items after this page, when known
	// (only without selectors).
	RemainingItemCount *int64
}

// List returns the objects opts selects. Errors are Kubernetes status
// errors: 400 for malformed options, 410 Gone when the revision (or the
// continue token's) was compacted, 504 with cause ResourceVersionTooLarge
// when the cache or store has not reached the revision.
func (c *Cacher) List(ctx context.Context, opts ListOptions) (*ListResult, error) {
	prefix, err := c.keyPrefix(opts.KeyPrefix)
	if err != nil {
		return nil, err
	}
	sel := selectors{label: orEverything(opts.Label), field: orEverythingFields(opts.Field)}
	if opts.Continue != "" {
		if opts.ResourceVersion != "" {
			return nil, apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
		}
		start, rev, err := decodeContinue(opts.Continue, prefix)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		return c.listFromStore(ctx, prefix, storeRead{rev: rev, start: start, limit: opts.Limit, continued: true}, sel)
	}
	rv, err := parseRV(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	if err := validateMatch(opts.ResourceVersion, opts.ResourceVersionMatch); err != nil {
		return nil, err
	}
	exact := opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact ||
		(opts.ResourceVersionMatch == "" && opts.Limit > 0 && rv > 0) // legacy: limit + RV means exact
	switch {
	case exact:
		return c.listFromStore(ctx, prefix, storeRead{rev: rv, limit: opts.Limit}, sel)
	case opts.ResourceVersion == "0":
		if err := c.waitReady(ctx); err != nil {
			return nil, err
		}
		return c.listFromCache(prefix, sel), nil
	case opts.Limit > 0: // "" or not older than N, paginated: the store's latest
		res, err := c.listFromStore(ctx, prefix, storeRead{limit: opts.Limit}, sel)
		if err == nil && res.ResourceVersion < rv {
			return nil, NewTooLargeResourceVersionError(rv, res.ResourceVersion, 1)
		}
		return res, err
	case opts.ResourceVersion == "":
		return c.consistentList(ctx, prefix, sel)
	default:
		if err := c.waitReady(ctx); err != nil {
			return nil, err
		}
		if err := c.waitForRev(ctx, rv); err != nil {
			return nil, err
		}
		return c.listFromCache(prefix, sel), nil
	}
}

// Get returns the object at key. ResourceVersion "" reads the store;
// "0" reads the cache as it is; "N" the cache once it is at N or later.
// A missing object is an error wrapping storage.ErrNotFound.
func (c *Cacher) Get(ctx context.Context, key, resourceVersion string) (runtime.Object, error) {
	if resourceVersion == "" {
		kv, err := c.cfg.Store.Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("cacher: get %s: %w", key, err)
		}
		return c.cfg.Decode(kv)
	}
	rv, err := parseRV(resourceVersion)
	if err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	if err := c.waitForRev(ctx, rv); err != nil {
		return nil, err
	}
	c.mu.RLock()
	it := c.items[key]
	c.mu.RUnlock()
	if it == nil {
		return nil, fmt.Errorf("cacher: get %s: %w", key, storage.ErrNotFound)
	}
	return it.obj, nil
}

// validateMatch checks resourceVersionMatch against resourceVersion.
func validateMatch(rv string, match metav1.ResourceVersionMatch) error {
	switch match {
	case "":
		return nil
	case metav1.ResourceVersionMatchNotOlderThan, metav1.ResourceVersionMatchExact:
		if rv == "" {
			return apierrors.NewBadRequest(fmt.Sprintf("resourceVersionMatch %q requires a resourceVersion", match))
		}
		if rv == "0" && match == metav1.ResourceVersionMatchExact {
			return apierrors.NewBadRequest(`resourceVersionMatch "Exact" is not allowed with resourceVersion "0"`)
		}
		return nil
	}
	return apierrors.NewBadRequest(fmt.Sprintf("unknown resourceVersionMatch %q", match))
}

// consistentList serves a "most recent" list from the cache once it has
// caught up with the store, or from the store if it does not in time.
func (c *Cacher) consistentList(ctx context.Context, prefix string, sel selectors) (*ListResult, error) {
	if err := c.waitReady(ctx); err != nil {
		return nil, err
	}
	err := c.waitConsistent(ctx)
	if IsTooLargeResourceVersion(err) {
		return c.listFromStore(ctx, prefix, storeRead{}, sel)
	}
	if err != nil {
		return nil, err
	}
	return c.listFromCache(prefix, sel), nil
}

// selectors is a label and a field selector, never nil.
type selectors struct {
	label labels.Selector
	field fields.Selector
}

func (s selectors) empty() bool { return s.label.Empty() && s.field.Empty() }

func (s selectors) matches(it *item) bool {
	return s.label.Matches(it.labels) && s.field.Matches(it.fields)
}

// listFromCache returns the matching cached objects, sorted by key.
func (c *Cacher) listFromCache(prefix string, sel selectors) *ListResult {
	c.mu.RLock()
	rev := c.rev
	var matched []*item
	for key, it := range c.items {
		if hasKeyPrefix(key, prefix) && sel.matches(it) {
			matched = append(matched, it)
		}
	}
	c.mu.RUnlock()
	sort.Slice(matched, func(i, j int) bool { return matched[i].key < matched[j].key })
	out := make([]runtime.Object, len(matched))
	for i, it := range matched {
		out[i] = it.obj
	}
	return &ListResult{Items: out, ResourceVersion: rev}
}

// storeRead says where a store list reads.
type storeRead struct {
	rev       int64  // 0: latest
	start     string // full key; "": from the prefix
	limit     int64  // 0: everything
	continued bool   // from a continue token (for the 410 message)
}

// listFromStore reads the store, decoding and filtering, until limit items
// match or the prefix is exhausted.
func (c *Cacher) listFromStore(ctx context.Context, prefix string, r storeRead, sel selectors) (*ListResult, error) {
	res := &ListResult{ResourceVersion: r.rev}
	fetch, start := r.limit, r.start
	for {
		page, err := c.cfg.Store.List(ctx, prefix, storage.ListOptions{Revision: res.ResourceVersion, Limit: fetch, StartKey: start})
		if err != nil {
			return nil, c.storeListError(err, r)
		}
		if res.ResourceVersion == 0 {
			res.ResourceVersion = page.Revision
		}
		for i, kv := range page.Items {
			it, err := c.newItem(kv)
			if err != nil || !sel.matches(it) {
				continue
			}
			res.Items = append(res.Items, it.obj)
			if r.limit > 0 && int64(len(res.Items)) == r.limit {
				left := int64(len(page.Items) - 1 - i)
				if left == 0 && !page.More {
					return res, nil
				}
				return res, c.setContinue(res, prefix, kv.Key, page, left, sel)
			}
		}
		if !page.More || len(page.Items) == 0 {
			return res, nil
		}
		start = page.Items[len(page.Items)-1].Key + "\x00"
		if !sel.empty() {
			fetch = min(2*fetch, maxFetch)
		}
	}
}

// setContinue fills the continue token (and, without selectors, the
// remaining count) of a page that ended at lastKey.
func (c *Cacher) setContinue(res *ListResult, prefix, lastKey string, page storage.ListResult, left int64, sel selectors) error {
	token, err := encodeContinue(lastKey+"\x00", prefix, res.ResourceVersion)
	if err != nil {
		return err
	}
	res.Continue = token
	if sel.empty() {
		n := left
		if page.More {
			n += page.Remaining
		}
		res.RemainingItemCount = &n
	}
	return nil
}

// storeListError maps store errors to Kubernetes status errors.
func (c *Cacher) storeListError(err error, r storeRead) error {
	switch {
	case errors.Is(err, storage.ErrCompacted) && r.continued:
		return apierrors.NewResourceExpired("the continue token is too old to give a consistent list: " +
			"start a new list without it")
	case errors.Is(err, storage.ErrCompacted):
		return apierrors.NewResourceExpired(fmt.Sprintf("resource version %d is too old: it was compacted", r.rev))
	case errors.Is(err, storage.ErrFutureRevision):
		return NewTooLargeResourceVersionError(r.rev, 0, 1)
	}
	return fmt.Errorf("cacher: list %s: %w", c.cfg.Prefix, err)
}

// keyPrefix defaults an empty prefix and refuses one outside Config.Prefix.
func (c *Cacher) keyPrefix(p string) (string, error) {
	if p == "" {
		return c.cfg.Prefix, nil
	}
	if !hasKeyPrefix(p, c.cfg.Prefix) {
		return "", apierrors.NewBadRequest(fmt.Sprintf("key prefix %q is outside %q", p, c.cfg.Prefix))
	}
	return p, nil
}
