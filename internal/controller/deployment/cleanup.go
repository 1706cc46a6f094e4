package deployment

import (
	"context"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// cleanup deletes the oldest empty old ReplicaSets beyond
// revisionHistoryLimit.
func (c *Controller) cleanup(ctx context.Context, d *appsv1.Deployment, old []*appsv1.ReplicaSet) error {
	if d.Spec.RevisionHistoryLimit == nil {
		return nil
	}
	var empty []*appsv1.ReplicaSet
	for _, rs := range old {
		if rs.DeletionTimestamp == nil && specReplicas(rs) == 0 && rs.Status.Replicas == 0 &&
			rs.Status.ObservedGeneration >= rs.Generation {
			empty = append(empty, rs)
		}
	}
	extra := len(empty) - int(*d.Spec.RevisionHistoryLimit)
	if extra <= 0 {
		return nil
	}
	slices.SortStableFunc(empty, func(a, b *appsv1.ReplicaSet) int {
		if ra, rb := revision(a.Annotations), revision(b.Annotations); ra != rb {
			return int(ra - rb)
		}
		return a.CreationTimestamp.Time.Compare(b.CreationTimestamp.Time)
	})
	for _, rs := range empty[:extra] {
		uid := rs.UID
		err := c.client.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting old ReplicaSet %s/%s: %w", rs.Namespace, rs.Name, err)
		}
	}
	return nil
}
