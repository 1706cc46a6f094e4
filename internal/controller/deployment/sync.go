package deployment

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// sync reconciles one Deployment: claim its ReplicaSets, then scale,
// roll back or roll out, and write the status.
func (c *Controller) sync(ctx context.Context, key string) error {
	namespace, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	cached, err := c.deployments.Deployments(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading deployment %s from the cache: %w", key, err)
	}
	d := cached.DeepCopy()
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || selector.Empty() {
		c.recorder.Event(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			return c.writeStatus(ctx, d)
		}
		return nil
	}
	rsList, err := c.claimReplicaSets(ctx, d, selector)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		return c.syncStatusOnly(ctx, d, rsList)
	}
	if err := c.checkPausedConditions(ctx, d); err != nil {
		return err
	}
	if d.Spec.Paused {
		return c.syncScale(ctx, d, rsList)
	}
	if _, ok := d.Annotations[rollbackToAnnotation]; ok {
		return c.rollback(ctx, d, rsList)
	}
	scaling, rsList, err := c.isScalingEvent(ctx, d, rsList)
	if err != nil {
		return err
	}
	if scaling {
		return c.syncScale(ctx, d, rsList)
	}
	if !isRolling(d) {
		return c.rolloutRecreate(ctx, d, rsList)
	}
	return c.rolloutRolling(ctx, d, rsList)
}

// claimReplicaSets adopts matching orphan ReplicaSets and releases the
// ones that no longer match. The results are cache objects: copy before
// changing them.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment, selector labels.Selector) ([]*appsv1.ReplicaSet, error) {
	all, err := c.replicaSets.ReplicaSets(d.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing ReplicaSets of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	claimer := &kit.Claimer{
		Owner:    d,
		GVK:      deploymentKind,
		Selector: selector,
		CanAdopt: func(ctx context.Context) error {
			live, err := c.client.AppsV1().Deployments(d.Namespace).Get(ctx, d.Name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if live.UID != d.UID {
				return fmt.Errorf("original deployment %s/%s is gone: got uid %s, wanted %s", d.Namespace, d.Name, live.UID, d.UID)
			}
			if live.DeletionTimestamp != nil {
				return fmt.Errorf("deployment %s/%s is being deleted", d.Namespace, d.Name)
			}
			return nil
		},
		Patch: func(ctx context.Context, namespace, name string, patch []byte) error {
			_, err := c.client.AppsV1().ReplicaSets(namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	}
	claimed, err := kit.Claim(ctx, claimer, all)
	if err != nil {
		return nil, fmt.Errorf("claiming ReplicaSets for deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return claimed, nil
}

// split finds the ReplicaSet running d's current template (the oldest if
// several do) and returns it with the others.
func split(d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet) {
	sorted := append([]*appsv1.ReplicaSet(nil), rsList...)
	byCreation(sorted)
	var newRS *appsv1.ReplicaSet
	var old []*appsv1.ReplicaSet
	for _, rs := range sorted {
		if newRS == nil && equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			newRS = rs
			continue
		}
		old = append(old, rs)
	}
	return newRS, old
}

// replicaSets returns the new and old ReplicaSets of d, bringing the new
// one's revision up to date, and creating it when create is set.
func (c *Controller) replicaSetsOf(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	existing, old := split(d, rsList)
	newRS, err := c.newReplicaSet(ctx, d, existing, old, create)
	if err != nil {
		return nil, nil, err
	}
	return newRS, old, nil
}

// syncStatusOnly writes the status of a Deployment being deleted.
func (c *Controller) syncStatusOnly(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old := split(d, rsList)
	return c.syncDeploymentStatus(ctx, d, newRS, old)
}

// syncDeploymentStatus writes the counts and the Available condition if
// they changed (no progress tracking: used when only scaling).
func (c *Controller) syncDeploymentStatus(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	st := c.computeStatus(d, newRS, withNew(old, newRS))
	if statusEqual(d.Status, st) {
		return nil
	}
	d.Status = st
	return c.writeStatus(ctx, d)
}

// writeStatus writes d.Status.
func (c *Controller) writeStatus(ctx context.Context, d *appsv1.Deployment) error {
	out, err := c.client.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("updating status of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	out.DeepCopyInto(d)
	return nil
}
