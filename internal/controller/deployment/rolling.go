package deployment

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
)

// rolloutRolling takes one step of a rolling update: grow the new
// ReplicaSet within maxSurge, else shrink old ones within maxUnavailable;
// once complete, clean up history.
func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSetsOf(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := withNew(old, newRS)
	scaledUp, err := c.reconcileNewReplicaSet(ctx, d, all, newRS)
	if err != nil {
		return err
	}
	if scaledUp {
		return c.syncRolloutStatus(ctx, d, newRS, old)
	}
	scaledDown, err := c.reconcileOldReplicaSets(ctx, d, all, active(old), newRS)
	if err != nil {
		return err
	}
	if scaledDown {
		return c.syncRolloutStatus(ctx, d, newRS, old)
	}
	if complete(d, &d.Status) {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, newRS, old)
}

// reconcileNewReplicaSet resizes the new ReplicaSet towards d's size as
// far as maxSurge allows; it reports whether it changed the size.
func (c *Controller) reconcileNewReplicaSet(ctx context.Context, d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	cur := specReplicas(newRS)
	want := desired(d)
	if cur > want {
		_, err := c.scaleReplicaSet(ctx, newRS, want, d)
		return err == nil, err
	}
	if cur == want {
		return false, nil
	}
	n := newRSReplicas(d, all, newRS)
	if n == cur {
		return false, nil
	}
	_, err := c.scaleReplicaSet(ctx, newRS, n, d)
	return err == nil, err
}

// reconcileOldReplicaSets shrinks the old ReplicaSets as far as
// maxUnavailable allows: first their unavailable pods, which cost no
// availability, then available ones down to the minimum.
func (c *Controller) reconcileOldReplicaSets(ctx context.Context, d *appsv1.Deployment, all, old []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (bool, error) {
	if sumSpec(old) == 0 {
		return false, nil
	}
	minAvailable := desired(d) - maxUnavailable(d)
	newUnavailable := specReplicas(newRS) - sumStatus([]*appsv1.ReplicaSet{newRS}, statusAvailable)
	maxScaleDown := sumSpec(all) - minAvailable - newUnavailable
	if maxScaleDown <= 0 {
		return false, nil
	}
	old, cleaned, err := c.cleanupUnhealthy(ctx, d, old, maxScaleDown)
	if err != nil {
		return false, err
	}
	scaled, err := c.scaleDownOld(ctx, d, withNew(old, newRS), old)
	if err != nil {
		return false, err
	}
	return cleaned+scaled > 0, nil
}

// cleanupUnhealthy removes up to maxCleanup unavailable replicas from the
// old ReplicaSets, oldest first, and returns them as updated.
func (c *Controller) cleanupUnhealthy(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet, maxCleanup int32) ([]*appsv1.ReplicaSet, int32, error) {
	sorted := append([]*appsv1.ReplicaSet(nil), old...)
	byCreation(sorted)
	var total int32
	for i, rs := range sorted {
		if total >= maxCleanup {
			break
		}
		spec, avail := specReplicas(rs), rs.Status.AvailableReplicas
		if spec == 0 || spec <= avail {
			continue
		}
		n := min(maxCleanup-total, spec-avail)
		out, err := c.scaleReplicaSet(ctx, rs, spec-n, d)
		if err != nil {
			return nil, total, err
		}
		sorted[i] = out
		total += n
	}
	return sorted, total, nil
}

// scaleDownOld removes available replicas from the old ReplicaSets,
// oldest first, while more than the minimum are available.
func (c *Controller) scaleDownOld(ctx context.Context, d *appsv1.Deployment, all, old []*appsv1.ReplicaSet) (int32, error) {
	minAvailable := desired(d) - maxUnavailable(d)
	available := sumStatus(all, statusAvailable)
	if available <= minAvailable {
		return 0, nil
	}
	budget := available - minAvailable
	sorted := append([]*appsv1.ReplicaSet(nil), old...)
	byCreation(sorted)
	var total int32
	for _, rs := range sorted {
		if total >= budget {
			break
		}
		spec := specReplicas(rs)
		if spec == 0 {
			continue
		}
		n := min(spec, budget-total)
		if _, err := c.scaleReplicaSet(ctx, rs, spec-n, d); err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
