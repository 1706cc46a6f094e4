package deployment

import (
	"cmp"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// specReplicas is a ReplicaSet's spec.replicas (nil counts as 0: the
// controller always sets it).
func specReplicas(rs *appsv1.ReplicaSet) int32 {
	if rs == nil || rs.Spec.Replicas == nil {
		return 0
	}
	return *rs.Spec.Replicas
}

// desired is a Deployment's spec.replicas (defaulted to 1).
func desired(d *appsv1.Deployment) int32 {
	if d.Spec.Replicas == nil {
		return 1
	}
	return *d.Spec.Replicas
}

// fenceposts resolves maxSurge and maxUnavailable against the replica
// count: surge rounds up, unavailable down, and both zero becomes
// unavailable 1 so a rollout can always proceed.
func fenceposts(d *appsv1.Deployment) (surge, unavailable int32, err error) {
	ru := d.Spec.Strategy.RollingUpdate
	def := intstr.FromString("25%")
	ms, mu := &def, &def
	if ru != nil && ru.MaxSurge != nil {
		ms = ru.MaxSurge
	}
	if ru != nil && ru.MaxUnavailable != nil {
		mu = ru.MaxUnavailable
	}
	n := int(desired(d))
	s, err := intstr.GetScaledValueFromIntOrPercent(ms, n, true)
	if err != nil {
		return 0, 0, err
	}
	u, err := intstr.GetScaledValueFromIntOrPercent(mu, n, false)
	if err != nil {
		return 0, 0, err
	}
	if s == 0 && u == 0 {
		u = 1
	}
	return int32(s), int32(u), nil
}

func isRolling(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType
}

// maxSurge is how many pods above spec.replicas a rollout may run.
func maxSurge(d *appsv1.Deployment) int32 {
	if !isRolling(d) {
		return 0
	}
	s, _, err := fenceposts(d)
	if err != nil {
		return 0 // validation rejects bad values; be conservative
	}
	return s
}

// maxUnavailable is how many pods below spec.replicas a rollout may go.
func maxUnavailable(d *appsv1.Deployment) int32 {
	if !isRolling(d) || desired(d) == 0 {
		return 0
	}
	_, u, err := fenceposts(d)
	if err != nil {
		return 0
	}
	return min(u, desired(d))
}

// sumSpec is the total spec.replicas of rss.
func sumSpec(rss []*appsv1.ReplicaSet) int32 {
	var n int32
	for _, rs := range rss {
		n += specReplicas(rs)
	}
	return n
}

// sumStatus adds up one status field over rss.
func sumStatus(rss []*appsv1.ReplicaSet, field func(*appsv1.ReplicaSetStatus) int32) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += field(&rs.Status)
		}
	}
	return n
}

func statusReplicas(s *appsv1.ReplicaSetStatus) int32  { return s.Replicas }
func statusReady(s *appsv1.ReplicaSetStatus) int32     { return s.ReadyReplicas }
func statusAvailable(s *appsv1.ReplicaSetStatus) int32 { return s.AvailableReplicas }

// active keeps the ReplicaSets with replicas wanted.
func active(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if specReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

// withNew is oldRSs plus newRS when there is one.
func withNew(oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	all := slices.Clone(oldRSs)
	if newRS != nil {
		all = append(all, newRS)
	}
	return all
}

// byCreation sorts oldest first (name breaks ties).
func byCreation(rss []*appsv1.ReplicaSet) {
	slices.SortStableFunc(rss, func(a, b *appsv1.ReplicaSet) int {
		if c := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
}

// bySize sorts larger first; among equals, newer first when newerFirst.
func bySize(rss []*appsv1.ReplicaSet, newerFirst bool) {
	slices.SortStableFunc(rss, func(a, b *appsv1.ReplicaSet) int {
		if c := cmp.Compare(specReplicas(b), specReplicas(a)); c != 0 {
			return c
		}
		c := a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time)
		if c == 0 {
			c = cmp.Compare(a.Name, b.Name)
		}
		if newerFirst {
			return -c
		}
		return c
	})
}

// newRSReplicas is the size the new ReplicaSet may grow to now.
func newRSReplicas(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	if !isRolling(d) {
		return desired(d)
	}
	current := sumSpec(all)
	ceiling := desired(d) + maxSurge(d)
	if current >= ceiling {
		return specReplicas(newRS)
	}
	up := min(ceiling-current, desired(d)-specReplicas(newRS))
	return specReplicas(newRS) + max(up, 0)
}

// fraction is how much rs should grow (or shrink) when the Deployment's
// size changes mid-rollout: in proportion to its share of the size it was
// last scaled for (the max-replicas annotation).
func fraction(rs *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	if specReplicas(rs) == 0 || desired(d) == 0 {
		return -specReplicas(rs)
	}
	target := desired(d) + maxSurge(d)
	base, ok := intAnnotation(rs, maxReplicasAnnotation)
	if !ok || base == 0 {
		base = d.Status.Replicas
	}
	if base == 0 {
		return 0
	}
	// Round half away from zero, in integers.
	num := int64(specReplicas(rs)) * int64(target)
	size := (2*num + int64(base)) / (2 * int64(base))
	return int32(size) - specReplicas(rs)
}
