package etcd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/skiffkube/skiff/internal/storage"
)

// RunCompactor compacts s every interval, keeping the last keep revisions of
// history, until ctx ends. Failed rounds are retried at the next tick. The
// caller owns the goroutine that runs it.
func RunCompactor(ctx context.Context, s storage.Store, interval time.Duration, keep int64) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	var last int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			if rev, err := CompactOnce(ctx, s, keep, last); err == nil {
				last = rev
			}
		}
	}
}

// CompactOnce compacts s to its current revision minus keep, unless that is
// not past last (the revision of the previous compaction). It returns the
// revision history now starts at. A revision another server compacted
// already counts as done.
func CompactOnce(ctx context.Context, s storage.Store, keep, last int64) (int64, error) {
	cur, err := s.CurrentRevision(ctx)
	if err != nil {
		return last, fmt.Errorf("compaction: %w", err)
	}
	target := cur - keep
	if target <= last || target <= 0 {
		return last, nil
	}
	if err := s.Compact(ctx, target); err != nil && !errors.Is(err, storage.ErrCompacted) {
		return last, fmt.Errorf("compaction: %w", err)
	}
	return target, nil
}
