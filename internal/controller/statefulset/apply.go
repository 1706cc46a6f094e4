package statefulset

import (
	"context"
	"errors"
	"fmt"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// apply carries out a step: deletions, then creations (claims first,
// then the pod), all at once (OrderedReady steps hold one of each at
// most).
func (c *Controller) apply(ctx context.Context, set *appsv1.StatefulSet, key string, st step, v view, revs revisions) error {
	for _, pod := range st.recreate {
		c.recorder.Eventf(set, corev1.EventTypeWarning, "RecreatingFailedPod",
			"StatefulSet %s/%s is recreating failed Pod %s", set.Namespace, set.Name, pod.Name)
	}
	err := c.deletePods(ctx, set, key, st.delete)
	if len(st.create) == 0 {
		return err
	}
	c.expect.ExpectCreations(key, len(st.create))
	return errors.Join(err, parallel(len(st.create), func(i int) error {
		if err := c.createPod(ctx, set, v, revs, st.create[i]); err != nil {
			c.expect.CreationObserved(key)
			return err
		}
		return nil
	}))
}

func (c *Controller) deletePods(ctx context.Context, set *appsv1.StatefulSet, key string, pods []*corev1.Pod) error {
	if len(pods) == 0 {
		return nil
	}
	keys := make([]string, len(pods))
	for i, p := range pods {
		keys[i] = p.Namespace + "/" + p.Name
	}
	c.expect.ExpectDeletions(key, keys)
	return parallel(len(pods), func(i int) error {
		if err := kit.DeletePod(ctx, c.client, pods[i]); err != nil {
			c.expect.DeletionObserved(key, keys[i])
			c.recorder.Eventf(set, corev1.EventTypeWarning, "FailedDelete",
				"delete Pod %s in StatefulSet %s failed error: %v", pods[i].Name, set.Name, err)
			return err
		}
		c.recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulDelete",
			"delete Pod %s in StatefulSet %s successful", pods[i].Name, set.Name)
		return nil
	})
}

// createPod creates the claims of an ordinal that are missing, then its
// pod from the revision its ordinal gets.
func (c *Controller) createPod(ctx context.Context, set *appsv1.StatefulSet, v view, revs revisions, ordinal int) error {
	tmpl, rev, err := templateFor(set, v, revs, ordinal)
	if err != nil {
		return err
	}
	pod := newPod(set, tmpl, rev, ordinal)
	if err := c.createClaims(ctx, set, pod.Name); err != nil {
		c.recorder.Eventf(set, corev1.EventTypeWarning, "FailedCreate",
			"create Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return err
	}
	if _, err := kit.CreatePod(ctx, c.client, pod); err != nil {
		c.recorder.Eventf(set, corev1.EventTypeWarning, "FailedCreate",
			"create Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err)
		return err
	}
	c.recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate",
		"create Pod %s in StatefulSet %s successful", pod.Name, set.Name)
	return nil
}

// createClaims creates a pod's claims that do not exist yet, owned by
// the set when the retention policy deletes them with it.
func (c *Controller) createClaims(ctx context.Context, set *appsv1.StatefulSet, pod string) error {
	var errs []error
	for _, claim := range newClaims(set, pod) {
		if _, err := c.claimLister.PersistentVolumeClaims(set.Namespace).Get(claim.Name); err == nil {
			continue
		}
		claim.OwnerReferences = claimOwners(set, nil, false, nil)
		_, err := c.client.CoreV1().PersistentVolumeClaims(set.Namespace).Create(ctx, claim, metav1.CreateOptions{})
		switch {
		case err == nil:
			c.recorder.Eventf(set, corev1.EventTypeNormal, "SuccessfulCreate",
				"create Claim %s Pod %s in StatefulSet %s success", claim.Name, pod, set.Name)
		case apierrors.IsAlreadyExists(err):
		default:
			c.recorder.Eventf(set, corev1.EventTypeWarning, "FailedCreate",
				"create Claim %s for Pod %s in StatefulSet %s failed error: %v", claim.Name, pod, set.Name, err)
			errs = append(errs, fmt.Errorf("creating claim %s/%s: %w", set.Namespace, claim.Name, err))
		}
	}
	return errors.Join(errs...)
}

// syncClaimOwners brings the owner references of the existing pods'
// claims in line with the retention policy: the set owns them when they
// go with it, and a pod scaled away owns its claims when they go with it
// (so the garbage collector removes them after the pod).
func (c *Controller) syncClaimOwners(ctx context.Context, set *appsv1.StatefulSet, v view) error {
	var errs []error
	for o, pod := range v.pods {
		condemnedPod := o < v.start || o >= v.start+v.replicas
		for i := range set.Spec.VolumeClaimTemplates {
			name := claimName(&set.Spec.VolumeClaimTemplates[i], pod.Name)
			claim, err := c.claimLister.PersistentVolumeClaims(set.Namespace).Get(name)
			if err != nil || claim.DeletionTimestamp != nil {
				continue
			}
			want := claimOwners(set, pod, condemnedPod, claim.OwnerReferences)
			if equality.Semantic.DeepEqual(want, claim.OwnerReferences) || len(want) == 0 && len(claim.OwnerReferences) == 0 {
				continue
			}
			upd := claim.DeepCopy()
			upd.OwnerReferences = want
			_, err = c.client.CoreV1().PersistentVolumeClaims(set.Namespace).Update(ctx, upd, metav1.UpdateOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("updating owners of claim %s/%s: %w", set.Namespace, name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// parallel runs fn for 0..n-1 concurrently and joins the errors.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
