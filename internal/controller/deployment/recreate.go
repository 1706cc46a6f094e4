package deployment

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// rolloutRecreate scales every old ReplicaSet to zero, waits until their
// pods are gone, then creates and scales up the new one.
func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSetsOf(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	scaledDown := false
	for _, rs := range active(old) {
		if _, err := c.scaleReplicaSet(ctx, rs, 0, d); err != nil {
			return err
		}
		scaledDown = true
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, d, newRS, old)
	}
	running, err := c.oldPodsRunning(d.Namespace, newRS, old)
	if err != nil {
		return err
	}
	if running {
		return c.syncRolloutStatus(ctx, d, newRS, old)
	}
	if newRS == nil {
		if newRS, old, err = c.replicaSetsOf(ctx, d, rsList, true); err != nil {
			return err
		}
	}
	if newRS, err = c.scaleReplicaSet(ctx, newRS, desired(d), d); err != nil {
		return err
	}
	if complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, newRS, old)
}

// oldPodsRunning reports whether any pod of the old ReplicaSets still
// exists and has not finished (terminating ones included).
func (c *Controller) oldPodsRunning(namespace string, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) (bool, error) {
	if sumStatus(old, statusReplicas) > 0 {
		return true, nil
	}
	owners := map[types.UID]bool{}
	for _, rs := range old {
		owners[rs.UID] = true
	}
	if newRS != nil {
		delete(owners, newRS.UID)
	}
	pods, err := c.pods.Pods(namespace).List(labels.Everything())
	if err != nil {
		return false, fmt.Errorf("listing pods in %s: %w", namespace, err)
	}
	for _, p := range pods {
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && owners[ref.UID] && !kit.IsPodTerminal(p) {
			return true, nil
		}
	}
	return false, nil
}
