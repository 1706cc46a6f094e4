package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// benchPrefix is where MeasurePuts writes; it deletes its keys afterwards.
const benchPrefix = "/skiff-bench/raw-put/"

// MeasurePuts writes total distinct keys with valueSize-byte values from
// workers concurrent goroutines and returns the puts per second. The keys
// are deleted afterwards (not timed).
func MeasurePuts(ctx context.Context, c *clientv3.Client, workers, total, valueSize int) (perSecond float64, err error) {
	if workers <= 0 || total <= 0 || valueSize < 0 {
		return 0, fmt.Errorf("measure puts: workers %d, total %d and value size %d must be positive", workers, total, valueSize)
	}
	prefix := fmt.Sprintf("%s%d/", benchPrefix, time.Now().UnixNano())
	value := strings.Repeat("x", valueSize)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(total); i = next.Add(1) - 1 {
				if _, err := c.Put(ctx, fmt.Sprintf("%s%010d", prefix, i), value); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cleanupCtx, cleanupCancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cleanupCancel()
	_, delErr := c.Delete(cleanupCtx, prefix, clientv3.WithPrefix())
	if firstErr != nil {
		return 0, fmt.Errorf("measure puts: %w", firstErr)
	}
	if delErr != nil {
		return 0, fmt.Errorf("measure puts: delete the written keys: %w", delErr)
	}
	if elapsed <= 0 {
		return 0, errors.New("measure puts: no time elapsed")
	}
	return float64(total) / elapsed.Seconds(), nil
}
