package storagetest

import (
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/skiffkube/skiff/internal/storage"
)

func testConcurrentCAS(t *testing.T, s storage.Store, prefix string) {
	const workers, perWorker = 8, 25
	ctx := testContext(t)
	key := prefix + "counter"
	mustCreate(t, s, key, "0")
	increment := func(kv storage.KeyValue) ([]byte, error) {
		n, err := strconv.Atoi(string(kv.Value))
		if err != nil {
			return nil, fmt.Errorf("counter value %q: %w", kv.Value, err)
		}
		return []byte(strconv.Itoa(n + 1)), nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				if _, err := storage.GuaranteedUpdate(ctx, s, key, increment); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("increment: %v", err)
	}
	kv, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get counter: %v", err)
	}
	if want := strconv.Itoa(workers * perWorker); string(kv.Value) != want {
		t.Fatalf("counter = %s, want %s: updates were lost", kv.Value, want)
	}
}
