package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// untrackPatch removes the job-tracking finalizer from a pod.
const untrackPatch = `{"metadata":{"$deleteFromPrimitiveList/finalizers":["` + batchv1.JobTrackingFinalizer + `"]}}`

// maxParallelPatches bounds concurrent pod writes in one sync.
const maxParallelPatches = 16

func hasTrackingFinalizer(p *corev1.Pod) bool {
	return slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer)
}

// uidTracker remembers, per Job key, the pods whose finalizer removal was
// issued but not yet seen in the informer, so that a sync during watch
// lag does not count them a second time.
type uidTracker struct {
	mu   sync.Mutex
	uids map[string]sets.Set[types.UID]
}

func newUIDTracker() *uidTracker {
	return &uidTracker{uids: map[string]sets.Set[types.UID]{}}
}

func (t *uidTracker) expect(key string, uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.uids[key]
	if !ok {
		s = sets.New[types.UID]()
		t.uids[key] = s
	}
	s.Insert(uid)
}

func (t *uidTracker) observed(key string, uid types.UID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok := t.uids[key]; ok {
		s.Delete(uid)
		if s.Len() == 0 {
			delete(t.uids, key)
		}
	}
}

// pending returns a copy of key's unobserved removals.
func (t *uidTracker) pending(key string) sets.Set[types.UID] {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.uids[key].Clone()
}

func (t *uidTracker) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.uids, key)
}

// untrack removes the tracking finalizer from pods, a few at a time. It
// returns the UIDs whose finalizer is gone (removed now, or the pod is
// gone) and the errors of the others.
func (c *Controller) untrack(ctx context.Context, key string, pods []*corev1.Pod) (sets.Set[types.UID], error) {
	done := sets.New[types.UID]()
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	sem := make(chan struct{}, maxParallelPatches)
	for _, p := range pods {
		c.untracked.expect(key, p.UID)
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			_, err := c.client.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, []byte(untrackPatch), metav1.PatchOptions{})
			mu.Lock()
			defer mu.Unlock()
			if err != nil && !apierrors.IsNotFound(err) {
				c.untracked.observed(key, p.UID)
				errs = append(errs, fmt.Errorf("removing the tracking finalizer of pod %s/%s: %w", p.Namespace, p.Name, err))
				return
			}
			done.Insert(p.UID)
		})
	}
	wg.Wait()
	return done, errors.Join(errs...)
}

// releaseOrphans removes the tracking finalizer from the pods in
// namespace that a Job named name controlled but that no Job with UID
// live controls any more (the Job was deleted or replaced).
func (c *Controller) releaseOrphans(ctx context.Context, key, namespace, name string, live types.UID) error {
	pods, err := c.pods.Pods(namespace).List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing pods of %s: %w", key, err)
	}
	var orphans []*corev1.Pod
	for _, p := range pods {
		ref := metav1.GetControllerOfNoCopy(p)
		if ref != nil && ref.Kind == jobKind.Kind && ref.Name == name && ref.UID != live && hasTrackingFinalizer(p) {
			orphans = append(orphans, p)
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	_, err = c.untrack(ctx, key, orphans)
	return err
}
