package allocator

import (
	"context"
	"fmt"

	"github.com/skiffkube/skiff/internal/storage"
)

// Defaults of the NodePort range, 30000-32767.
const (
	DefaultNodePortKey  = "/registry/ranges/servicenodeports"
	DefaultNodePortBase = 30000
	DefaultNodePortSize = 2768
)

// PortAllocator hands out Service node ports from base to base+size-1.
type PortAllocator struct {
	core *rangeAllocator
	base int
}

// NewPortAllocator returns an allocator for ports base..base+size-1 whose
// state lives under key in store; base 0 and size 0 select the default
// range 30000-32767. It does no I/O.
func NewPortAllocator(store storage.Store, key string, base, size int, opts ...Option) (*PortAllocator, error) {
	if base == 0 && size == 0 {
		base, size = DefaultNodePortBase, DefaultNodePortSize
	}
	if base < 1 || size < 1 || base+size-1 > 65535 {
		return nil, fmt.Errorf("port allocator: invalid range base %d size %d", base, size)
	}
	name := fmt.Sprintf("%d-%d", base, base+size-1)
	core, err := newRangeAllocator(store, key, "port", name, size, 0, portBand(size), opts)
	if err != nil {
		return nil, err
	}
	return &PortAllocator{core: core, base: base}, nil
}

// portBand sizes the lower part of a port range kept for ports chosen by
// users: size/32, at least 16 and at most 128.
func portBand(size int) int {
	return min(max(16, size/32), 128)
}

// Size implements Range: the number of ports.
func (a *PortAllocator) Size() int { return a.core.size }

// Base returns the first port of the range.
func (a *PortAllocator) Base() int { return a.base }

// AllocateNext takes a free port, searching from a random start and
// preferring the upper part of the range. It returns an error wrapping
// ErrFull when none is left.
func (a *PortAllocator) AllocateNext(ctx context.Context) (int, error) {
	i, err := a.core.allocateNext(ctx)
	if err != nil {
		return 0, err
	}
	return a.base + i, nil
}

// Allocate takes port. It returns an error wrapping ErrAllocated if it is
// taken and ErrNotInRange if it is outside the range.
func (a *PortAllocator) Allocate(ctx context.Context, port int) error {
	i, ok := a.offset(port)
	if !ok {
		return errNotInRange("port", a.core.rangeName)
	}
	return a.core.allocate(ctx, i)
}

// Release frees port. Releasing a free port, or one outside the range, is
// a no-op.
func (a *PortAllocator) Release(ctx context.Context, port int) error {
	i, ok := a.offset(port)
	if !ok {
		return nil
	}
	return a.core.release(ctx, i)
}

// Has reports whether port is allocated; ports outside the range are not.
func (a *PortAllocator) Has(ctx context.Context, port int) (bool, error) {
	i, ok := a.offset(port)
	if !ok {
		return false, nil
	}
	return a.core.has(ctx, i)
}

// Used returns the number of allocated ports.
func (a *PortAllocator) Used(ctx context.Context) (int, error) {
	return a.core.used(ctx)
}

// offset maps port to its bitmap offset, if it is in the range.
func (a *PortAllocator) offset(port int) (int, bool) {
	i := port - a.base
	return i, i >= 0 && i < a.core.size
}
