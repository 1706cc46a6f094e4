package replicaset

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// sync reconciles one owner: claim its pods, create or delete to reach
// spec.replicas (unless earlier actions are still unobserved), and write
// the status.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key of ours: nothing to retry
	}
	o, err := c.kind.get(namespace, name)
	if apierrors.IsNotFound(err) {
		c.expectations.Forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s %s from the cache: %w", c.kind.gvk().Kind, key, err)
	}
	rs := o.rs
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil || selector.Empty() {
		c.logger.Warn("invalid selector, not syncing", "kind", c.kind.gvk().Kind, "key", key, "err", err)
		return nil
	}
	// Read expectations before the pods: a pod observed in between is
	// then in the list we act on.
	needsSync := c.expectations.Satisfied(key) && rs.DeletionTimestamp == nil
	all, err := c.pods.Pods(namespace).List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing pods of %s: %w", key, err)
	}
	var active []*corev1.Pod
	for _, p := range all {
		if kit.IsPodActive(p) {
			active = append(active, p)
		}
	}
	pods, err := c.claimPods(ctx, o, selector, active)
	if err != nil {
		return err
	}
	var manageErr error
	if needsSync {
		manageErr = c.manageReplicas(ctx, key, o, pods, all)
	}
	now := c.now()
	st := computeStatus(rs, pods, terminatingOf(rs.UID, all), manageErr, now, c.kind.tracksTerminating())
	if !statusEqual(rs.Status, st) {
		if err := c.kind.updateStatus(ctx, o, st); err != nil && !apierrors.IsNotFound(err) {
			return errors.Join(manageErr, fmt.Errorf("updating status of %s %s: %w", c.kind.gvk().Kind, key, err))
		}
	}
	if manageErr != nil {
		return manageErr
	}
	if at, ok := nextAvailable(pods, rs.Spec.MinReadySeconds, now); ok {
		return kit.RequeueAfter(at.Sub(now) + 10*time.Millisecond)
	}
	return nil
}

// claimPods adopts matching orphans and releases pods that no longer match.
func (c *Controller) claimPods(ctx context.Context, o owner, selector labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	rs := o.rs
	claimer := &kit.Claimer{
		Owner:    rs,
		GVK:      c.kind.gvk(),
		Selector: selector,
		CanAdopt: func(ctx context.Context) error {
			live, err := c.kind.getLive(ctx, rs.Namespace, rs.Name)
			if err != nil {
				return err
			}
			if live.GetUID() != rs.UID {
				return fmt.Errorf("original %s/%s is gone: got uid %s, wanted %s", rs.Namespace, rs.Name, live.GetUID(), rs.UID)
			}
			if live.GetDeletionTimestamp() != nil {
				return fmt.Errorf("%s/%s is being deleted", rs.Namespace, rs.Name)
			}
			return nil
		},
		Patch: func(ctx context.Context, namespace, name string, patch []byte) error {
			_, err := c.client.CoreV1().Pods(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	}
	claimed, err := kit.Claim(ctx, claimer, pods)
	if err != nil {
		return nil, fmt.Errorf("claiming pods for %s/%s: %w", rs.Namespace, rs.Name, err)
	}
	return claimed, nil
}

// terminatingOf counts the pods controlled by uid that are being deleted
// and have not finished.
func terminatingOf(uid types.UID, all []*corev1.Pod) int32 {
	var n int32
	for _, p := range all {
		if p.DeletionTimestamp == nil || kit.IsPodTerminal(p) {
			continue
		}
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.UID == uid {
			n++
		}
	}
	return n
}

// manageReplicas creates or deletes pods so that len(pods) reaches
// spec.replicas, at most c.burst per sync.
func (c *Controller) manageReplicas(ctx context.Context, key string, o owner, pods, all []*corev1.Pod) error {
	want := int(replicasOf(o.rs))
	switch diff := len(pods) - want; {
	case diff < 0:
		return c.createPods(ctx, key, o, min(-diff, c.burst))
	case diff > 0:
		victims := podsToDelete(pods, relatedPods(o.rs, c.kind, all), min(diff, c.burst))
		return c.deletePods(ctx, key, o, victims)
	}
	return nil
}

func replicasOf(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}

// createPods creates n pods in batches of 1, 2, 4, ... and stops at the
// first batch with a failure.
func (c *Controller) createPods(ctx context.Context, key string, o owner, n int) error {
	c.expectations.ExpectCreations(key, n)
	ref := kit.ControllerRef(o.rs, c.kind.gvk())
	created, err := slowStart(n, 1, func() error {
		pod := kit.PodFromTemplate(&o.rs.Spec.Template, o.rs.Namespace, "", ref)
		got, err := kit.CreatePod(ctx, c.client, pod)
		if err != nil {
			c.expectations.CreationObserved(key) // its event will never come
			if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				return nil // the namespace is going away: not a failure
			}
			c.recorder.Eventf(o.obj, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			return err
		}
		c.recorder.Eventf(o.obj, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", got.Name)
		return nil
	})
	// Pods never attempted will not be observed either.
	for range n - created {
		c.expectations.CreationObserved(key)
	}
	return err
}

// slowStart calls fn count times in batches that start at initial and
// double while every call succeeds. It returns how many calls were made
// (failed ones included) and the first error.
func slowStart(count, initial int, fn func() error) (int, error) {
	done := 0
	for batch := min(count, initial); batch > 0; batch = min(2*batch, count-done) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Go(func() {
				if err := fn(); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		done += batch
		close(errs)
		if err, failed := <-errs; failed {
			return done, err
		}
	}
	return done, nil
}

// deletePods deletes victims in parallel.
func (c *Controller) deletePods(ctx context.Context, key string, o owner, victims []*corev1.Pod) error {
	keys := make([]string, len(victims))
	for i, p := range victims {
		keys[i] = p.Namespace + "/" + p.Name
	}
	c.expectations.ExpectDeletions(key, keys)
	errs := make([]error, len(victims))
	var wg sync.WaitGroup
	for i, p := range victims {
		wg.Go(func() {
			if err := kit.DeletePod(ctx, c.client, p); err != nil {
				c.expectations.DeletionObserved(key, keys[i])
				c.recorder.Eventf(o.obj, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
				errs[i] = err
				return
			}
			if cur, err := c.pods.Pods(p.Namespace).Get(p.Name); err != nil || cur.UID != p.UID {
				// Already gone from the cache: its event may have come
				// before the expectation was recorded.
				c.expectations.DeletionObserved(key, keys[i])
			}
			c.recorder.Eventf(o.obj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
