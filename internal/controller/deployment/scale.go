package deployment

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// isScalingEvent reports whether d's size changed since its active
// ReplicaSets were last scaled (their desired-replicas annotation), as
// opposed to a template change. It returns rsList with the new
// ReplicaSet as brought up to date, so later steps do not write it again
// from a stale copy.
func (c *Controller) isScalingEvent(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) (bool, []*appsv1.ReplicaSet, error) {
	newRS, old, err := c.replicaSetsOf(ctx, d, rsList, false)
	if err != nil {
		return false, nil, err
	}
	rsList = withNew(old, newRS)
	for _, rs := range active(rsList) {
		if n, ok := intAnnotation(rs, desiredReplicasAnnotation); ok && n != desired(d) {
			return true, rsList, nil
		}
	}
	return false, rsList, nil
}

// syncScale handles a paused Deployment or a pure scaling event: resize
// the ReplicaSets without rolling out, clean up history when paused, and
// write the status.
func (c *Controller) syncScale(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSetsOf(ctx, d, rsList, false)
	if err != nil {
		return err
	}
	if err := c.scale(ctx, d, newRS, old); err != nil {
		return err
	}
	if _, rollingBack := d.Annotations[rollbackToAnnotation]; d.Spec.Paused && !rollingBack {
		if err := c.cleanup(ctx, d, old); err != nil {
			return err
		}
	}
	return c.syncDeploymentStatus(ctx, d, newRS, old)
}

// scale brings the ReplicaSets' total to what d allows. With a single
// active ReplicaSet it simply takes d's size; during a rolling update the
// difference is spread in proportion to the ReplicaSets' sizes.
func (c *Controller) scale(ctx context.Context, d *appsv1.Deployment, newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) error {
	if rs := activeOrLatest(newRS, old); rs != nil {
		if specReplicas(rs) == desired(d) {
			return nil
		}
		_, err := c.scaleReplicaSet(ctx, rs, desired(d), d)
		return err
	}
	if saturated(d, newRS) {
		for _, rs := range active(old) {
			if _, err := c.scaleReplicaSet(ctx, rs, 0, d); err != nil {
				return err
			}
		}
		return nil
	}
	if !isRolling(d) {
		return nil
	}
	all := active(withNew(old, newRS))
	sizes := proportionalSizes(d, all)
	for _, rs := range all {
		if _, err := c.scaleReplicaSet(ctx, rs, sizes[rs.Name], d); err != nil {
			return err
		}
	}
	return nil
}

// proportionalSizes spreads the difference between what d allows (size
// plus surge) and what the active ReplicaSets hold over them by their
// share; the rounding leftover goes to the largest.
func proportionalSizes(d *appsv1.Deployment, all []*appsv1.ReplicaSet) map[string]int32 {
	allowed := desired(d)
	if allowed > 0 {
		allowed += maxSurge(d)
	}
	toAdd := allowed - sumSpec(all)
	sorted := append([]*appsv1.ReplicaSet(nil), all...)
	bySize(sorted, toAdd > 0)
	sizes := make(map[string]int32, len(sorted))
	var added int32
	for _, rs := range sorted {
		p := int32(0)
		if toAdd != 0 {
			p = fraction(rs, d)
			if rest := toAdd - added; abs(p) > abs(rest) {
				p = rest
			}
		}
		sizes[rs.Name] = specReplicas(rs) + p
		added += p
	}
	if len(sorted) > 0 && added != toAdd {
		first := sorted[0].Name
		sizes[first] = max(sizes[first]+toAdd-added, 0)
	}
	return sizes
}

func abs(v int32) int32 {
	if v < 0 {
		return -v
	}
	return v
}

// activeOrLatest is the only active ReplicaSet, or with none active the
// new one (else the newest old one); nil when several are active.
func activeOrLatest(newRS *appsv1.ReplicaSet, old []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(old) == 0 {
		return nil
	}
	act := active(withNew(old, newRS))
	switch len(act) {
	case 0:
		if newRS != nil {
			return newRS
		}
		sorted := append([]*appsv1.ReplicaSet(nil), old...)
		byCreation(sorted)
		return sorted[len(sorted)-1]
	case 1:
		return act[0]
	}
	return nil
}

// saturated reports whether the new ReplicaSet alone runs d at full size.
func saturated(d *appsv1.Deployment, newRS *appsv1.ReplicaSet) bool {
	if newRS == nil {
		return false
	}
	n, ok := intAnnotation(newRS, desiredReplicasAnnotation)
	return ok && n == desired(d) && specReplicas(newRS) == desired(d) && newRS.Status.AvailableReplicas == desired(d)
}

// scaleReplicaSet sets rs's size (and its replica annotations) and
// records the ScalingReplicaSet event. It reports whether the size
// changed and returns the ReplicaSet as written.
func (c *Controller) scaleReplicaSet(ctx context.Context, rs *appsv1.ReplicaSet, size int32, d *appsv1.Deployment) (*appsv1.ReplicaSet, error) {
	from := specReplicas(rs)
	cp := rs.DeepCopy()
	annotated := setReplicasAnnotations(cp, desired(d), desired(d)+maxSurge(d))
	if from == size && !annotated {
		return rs, nil
	}
	cp.Spec.Replicas = ptr.To(size)
	out, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("scaling ReplicaSet %s/%s to %d: %w", rs.Namespace, rs.Name, size, err)
	}
	if from != size {
		op := "up"
		if size < from {
			op = "down"
		}
		c.recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", op, rs.Name, from, size)
	}
	return out, nil
}
