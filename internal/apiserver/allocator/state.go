package allocator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/skiffkube/skiff/internal/storage"
)

// createAttempts bounds how often an operation recreates a range document
// that keeps disappearing under it.
const createAttempts = 5

// errUnchanged aborts a write that would not change the bitmap.
var errUnchanged = errors.New("allocator: bitmap unchanged")

// rangeDoc is the stored form of one range.
type rangeDoc struct {
	// Range names the range ("10.96.0.0/12", "30000-32767").
	Range string `json:"range"`
	// Size is the number of offsets in the bitmap.
	Size int `json:"size"`
	// Data is the bitmap, base64 in JSON.
	Data []byte `json:"data"`
}

// Option configures an allocator.
type Option func(*options)

type options struct {
	rand *rand.Rand
}

// WithRand makes the allocator draw the start of its search for a free value
// from r, for deterministic tests. The allocator serializes its use of r.
func WithRand(r *rand.Rand) Option {
	return func(o *options) { o.rand = r }
}

// rangeAllocator is the storage-backed bitmap shared by the IP and port
// allocators, working on offsets 0..size-1.
type rangeAllocator struct {
	store storage.Store
	key   string
	// noun names the values in errors ("IP", "port").
	noun string
	// rangeName identifies the range in the stored document and errors.
	rangeName string
	size      int
	// reserved offsets below it are only handed out by allocate, never by
	// allocateNext.
	reserved int
	// band: allocateNext prefers offsets >= band and uses the ones below
	// (kept for values chosen by users) only when the rest is full.
	band int

	// mu serializes this instance's operations (fewer conflicts between
	// its own goroutines) and its use of rand.
	mu   sync.Mutex
	rand *rand.Rand
}

func newRangeAllocator(store storage.Store, key, noun, rangeName string, size, reserved, band int, opts []Option) (*rangeAllocator, error) {
	if store == nil {
		return nil, errors.New("allocator: nil store")
	}
	if key == "" {
		return nil, errors.New("allocator: empty key")
	}
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.rand == nil {
		o.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if band <= reserved || band >= size {
		band = reserved
	}
	return &rangeAllocator{
		store: store, key: key, noun: noun, rangeName: rangeName,
		size: size, reserved: reserved, band: band, rand: o.rand,
	}, nil
}

// allocateNext takes a free offset, starting the search at a random place.
func (c *rangeAllocator) allocateNext(ctx context.Context) (int, error) {
	var got int
	err := c.modify(ctx, func(b *bitmap) (bool, error) {
		i, ok := c.pickFree(b)
		if !ok {
			return false, errFull(c.noun, c.rangeName)
		}
		got = i
		return b.set(i), nil
	})
	return got, err
}

// pickFree finds a free offset, in the upper band first.
func (c *rangeAllocator) pickFree(b *bitmap) (int, bool) {
	bands := [][2]int{{c.band, c.size}, {c.reserved, c.band}}
	for _, r := range bands {
		lo, hi := r[0], r[1]
		if lo >= hi {
			continue
		}
		if i, ok := b.nextFree(lo+c.rand.IntN(hi-lo), lo, hi); ok {
			return i, true
		}
	}
	return 0, false
}

// allocate takes offset i.
func (c *rangeAllocator) allocate(ctx context.Context, i int) error {
	return c.modify(ctx, func(b *bitmap) (bool, error) {
		if !b.set(i) {
			return false, errAllocated(c.noun)
		}
		return true, nil
	})
}

// release frees offset i; freeing a free offset is not an error.
func (c *rangeAllocator) release(ctx context.Context, i int) error {
	return c.modify(ctx, func(b *bitmap) (bool, error) {
		return b.clear(i), nil
	})
}

// has reports whether offset i is taken, as of the store's latest state.
func (c *rangeAllocator) has(ctx context.Context, i int) (bool, error) {
	b, err := c.read(ctx)
	if err != nil {
		return false, err
	}
	return b.has(i), nil
}

// used returns the number of taken offsets.
func (c *rangeAllocator) used(ctx context.Context) (int, error) {
	b, err := c.read(ctx)
	if err != nil {
		return 0, err
	}
	return b.count(), nil
}

// read loads the bitmap; a missing document is an empty range.
func (c *rangeAllocator) read(ctx context.Context) (*bitmap, error) {
	kv, err := c.store.Get(ctx, c.key)
	if errors.Is(err, storage.ErrNotFound) {
		return newBitmap(c.size), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read range %s: %w", c.key, err)
	}
	return c.decode(kv.Value)
}

// modify applies fn to the stored bitmap and writes the result with a
// compare-and-swap, retrying on conflict; fn may run several times and
// reports whether it changed the bitmap (no write if not). A missing
// document is created empty first.
func (c *rangeAllocator) modify(ctx context.Context, fn func(*bitmap) (bool, error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range createAttempts {
		_, err := storage.GuaranteedUpdate(ctx, c.store, c.key, func(cur storage.KeyValue) ([]byte, error) {
			b, err := c.decode(cur.Value)
			if err != nil {
				return nil, err
			}
			changed, err := fn(b)
			if err != nil {
				return nil, err
			}
			if !changed {
				return nil, errUnchanged
			}
			return c.encode(b)
		})
		switch {
		case err == nil, errors.Is(err, errUnchanged):
			return nil
		case !errors.Is(err, storage.ErrNotFound):
			if _, ok := errors.AsType[*rangeError](err); ok {
				return err
			}
			return fmt.Errorf("update range %s: %w", c.key, err)
		}
		if err := c.create(ctx); err != nil {
			return err
		}
	}
	return fmt.Errorf("update range %s: document keeps disappearing", c.key)
}

// create writes an empty range document unless one exists.
func (c *rangeAllocator) create(ctx context.Context) error {
	value, err := c.encode(newBitmap(c.size))
	if err != nil {
		return err
	}
	_, err = c.store.Create(ctx, c.key, value)
	if err != nil && !errors.Is(err, storage.ErrKeyExists) {
		return fmt.Errorf("create range %s: %w", c.key, err)
	}
	return nil
}

func (c *rangeAllocator) encode(b *bitmap) ([]byte, error) {
	value, err := json.Marshal(rangeDoc{Range: c.rangeName, Size: c.size, Data: b.bytes()})
	if err != nil {
		return nil, fmt.Errorf("encode range %s: %w", c.key, err)
	}
	return value, nil
}

// decode parses a stored document and checks it describes our range.
func (c *rangeAllocator) decode(value []byte) (*bitmap, error) {
	var doc rangeDoc
	if err := json.Unmarshal(value, &doc); err != nil {
		return nil, fmt.Errorf("decode range %s: %w", c.key, err)
	}
	if doc.Range != c.rangeName || doc.Size != c.size {
		return nil, fmt.Errorf("range %s holds %q (%d values) but this server is configured for %q (%d values)",
			c.key, doc.Range, doc.Size, c.rangeName, c.size)
	}
	b, err := bitmapFromBytes(c.size, doc.Data)
	if err != nil {
		return nil, fmt.Errorf("decode range %s: %w", c.key, err)
	}
	return b, nil
}
