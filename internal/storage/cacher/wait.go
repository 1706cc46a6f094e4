package cacher

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/storage"
)

// waitReady blocks until the first list is loaded; after WaitTimeout it
// returns 429 "storage is (re)initializing", as upstream does.
func (c *Cacher) waitReady(ctx context.Context) error {
	select {
	case <-c.ready:
		return nil
	default:
	}
	t := c.cfg.Clock.NewTimer(c.cfg.WaitTimeout)
	defer t.Stop()
	select {
	case <-c.ready:
		return nil
	case <-t.C():
		return apierrors.NewTooManyRequests("storage is (re)initializing", 1)
	case <-ctx.Done():
		return fmt.Errorf("cacher: waiting for the initial list: %w", ctx.Err())
	}
}

// waitConsistent waits until the cache holds everything the store has
// committed now.
func (c *Cacher) waitConsistent(ctx context.Context) error {
	rev, err := c.cfg.Store.CurrentRevision(ctx)
	if err != nil {
		return fmt.Errorf("cacher: current revision: %w", err)
	}
	return c.waitForRev(ctx, rev)
}

// currentRev returns the cache revision and the channel closed when it next
// changes.
func (c *Cacher) currentRev() (int64, <-chan struct{}) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev, c.revChanged
}

// waitForRev blocks until the cache is at rev or later, asking the store for
// progress notifications meanwhile. After WaitTimeout it returns a 504
// "Too large resource version" error.
func (c *Cacher) waitForRev(ctx context.Context, rev int64) error {
	cur, changed := c.currentRev()
	if cur >= rev {
		return nil
	}
	timeout := c.cfg.Clock.NewTimer(c.cfg.WaitTimeout)
	defer timeout.Stop()
	tick := c.cfg.Clock.NewTicker(progressInterval)
	defer tick.Stop()
	c.progress.request(ctx)
	for {
		select {
		case <-changed:
			if cur, changed = c.currentRev(); cur >= rev {
				return nil
			}
		case <-tick.C():
			c.progress.request(ctx)
		case <-timeout.C():
			return NewTooLargeResourceVersionError(rev, cur, 1)
		case <-ctx.Done():
			return fmt.Errorf("cacher: waiting for revision %d: %w", rev, ctx.Err())
		}
	}
}

// NewTooLargeResourceVersionError is the 504 error of a read whose
// resourceVersion the cache has not reached in time; clients retry.
func NewTooLargeResourceVersionError(requested, current int64, retrySeconds int) error {
	err := apierrors.NewTimeoutError(
		fmt.Sprintf("Too large resource version: %d, current: %d", requested, current), retrySeconds)
	err.ErrStatus.Details.Causes = []metav1.StatusCause{{
		Type:    metav1.CauseTypeResourceVersionTooLarge,
		Message: "Too large resource version",
	}}
	return err
}

// IsTooLargeResourceVersion reports whether err is the error of
// NewTooLargeResourceVersionError.
func IsTooLargeResourceVersion(err error) bool {
	if !apierrors.IsTimeout(err) {
		return false
	}
	return apierrors.HasStatusCause(err, metav1.CauseTypeResourceVersionTooLarge)
}

// progressRequester calls Store.RequestProgress for waiting readers, one
// call at a time: a reader that finds one in flight relies on it.
type progressRequester struct {
	store storage.Store

	mu       sync.Mutex
	inFlight bool
}

func (p *progressRequester) request(ctx context.Context) {
	p.mu.Lock()
	if p.inFlight {
		p.mu.Unlock()
		return
	}
	p.inFlight = true
	p.mu.Unlock()
	// A failed request is retried by the waiter's next tick.
	_ = p.store.RequestProgress(ctx)
	p.mu.Lock()
	p.inFlight = false
	p.mu.Unlock()
}

// parseRV parses a resourceVersion; "" and "0" are 0.
func parseRV(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	rv, err := strconv.ParseInt(s, 10, 64)
	if err != nil || rv < 0 {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", s))
	}
	return rv, nil
}
