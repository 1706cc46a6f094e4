package kit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// NewQueue returns a rate-limited queue of keys with the default
// controller rate limiter (per-item exponential back-off from 5 ms to
// 1000 s plus an overall bucket).
func NewQueue(name string) workqueue.TypedRateLimitingInterface[string] {
	return workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: name})
}

// RequeueAfter is an error a sync function returns to have its key looked
// at again after a delay, without counting as a failure.
type RequeueAfter time.Duration

func (r RequeueAfter) Error() string { return fmt.Sprintf("requeue after %s", time.Duration(r)) }

// SyncFunc reconciles one key. An error retries it with back-off; a
// RequeueAfter error schedules it again; NotFound errors count as done.
type SyncFunc func(ctx context.Context, key string) error

// Loop runs workers over a queue until ctx is done, after waiting for the
// informers to sync. It shuts the queue down and waits for the workers
// before returning.
type Loop struct {
	// Name names the controller in logs and errors.
	Name string
	// Queue holds the keys; Run shuts it down.
	Queue workqueue.TypedRateLimitingInterface[string]
	// Sync reconciles one key.
	Sync SyncFunc
	// Synced are the informers' HasSynced functions.
	Synced []cache.InformerSynced
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// Run blocks until ctx is done, running workers goroutines.
func (l *Loop) Run(ctx context.Context, workers int) error {
	defer l.Queue.ShutDown()
	if !cache.WaitForCacheSync(ctx.Done(), l.Synced...) {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("%s: caches did not sync", l.Name)
	}
	logger := l.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() {
			for l.next(ctx, logger) {
			}
		})
	}
	<-ctx.Done()
	l.Queue.ShutDown()
	wg.Wait()
	return nil
}

// next handles one key; it returns false when the queue is shut down.
func (l *Loop) next(ctx context.Context, logger *slog.Logger) bool {
	key, quit := l.Queue.Get()
	if quit {
		return false
	}
	defer l.Queue.Done(key)
	err := l.Sync(ctx, key)
	var after RequeueAfter
	switch {
	case err == nil || apierrors.IsNotFound(err):
		l.Queue.Forget(key)
	case errors.As(err, &after):
		l.Queue.Forget(key)
		l.Queue.AddAfter(key, time.Duration(after))
	case ctx.Err() != nil:
		// Shutting down: the error is the cancellation.
	default:
		logger.Warn("sync failed, retrying", "controller", l.Name, "key", key, "err", err)
		l.Queue.AddRateLimited(key)
	}
	return true
}

// Enqueue returns an informer handler function that adds an object's
// namespace/name key to q (tombstones included).
func Enqueue(q workqueue.TypedInterface[string]) func(obj any) {
	return func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			q.Add(key)
		}
	}
}

// Handlers returns informer handlers that enqueue the object on add,
// update and delete.
func Handlers(q workqueue.TypedInterface[string]) cache.ResourceEventHandlerFuncs {
	add := Enqueue(q)
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    add,
		UpdateFunc: func(_, obj any) { add(obj) },
		DeleteFunc: add,
	}
}
