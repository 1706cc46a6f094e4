package server_test

import (
	"fmt"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Concurrent patches without a resourceVersion must all land: the server
// retries them on write conflicts instead of answering 409.
func TestConcurrentPatchesAllLand(t *testing.T) {
	ctx := ctxT(t)
	ns := testNamespace(t, "concurrent-patches")
	cms := fixture.cs.CoreV1().ConfigMaps(ns)
	if _, err := cms.Create(ctx, cm(ns, "shared", nil, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const writers = 20
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kind := []types.PatchType{types.MergePatchType, types.StrategicMergePatchType}[i%2]
			patch := fmt.Sprintf(`{"metadata":{"labels":{"writer-%d":"yes"}}}`, i)
			if _, err := cms.Patch(ctx, "shared", kind, []byte(patch), metav1.PatchOptions{}); err != nil {
				errs <- fmt.Errorf("writer %d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := cms.Get(ctx, "shared", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Labels) != writers {
		t.Fatalf("got %d labels, want %d: %v", len(got.Labels), writers, got.Labels)
	}
	// A patch that names a stale resourceVersion is refused.
	stale := `{"metadata":{"resourceVersion":"1","labels":{"late":"yes"}}}`
	if _, err := cms.Patch(ctx, "shared", types.MergePatchType, []byte(stale), metav1.PatchOptions{}); err == nil {
		t.Fatal("patch with a stale resourceVersion succeeded, want 409 Conflict")
	}
}
