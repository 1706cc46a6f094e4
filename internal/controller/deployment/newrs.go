package deployment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// errHashCollision means a ReplicaSet with the new one's name exists and
// is not d's: the collision count was raised, so the next try hashes
// differently.
var errHashCollision = errors.New("pod-template-hash collision")

// newReplicaSet returns d's ReplicaSet for its current template. An
// existing one gets the next revision and d's annotations; a missing one
// is created when create is set (else nil is returned).
func (c *Controller) newReplicaSet(ctx context.Context, d *appsv1.Deployment, existing *appsv1.ReplicaSet, old []*appsv1.ReplicaSet, create bool) (*appsv1.ReplicaSet, error) {
	newRevision := maxRevision(old) + 1
	if existing != nil {
		return c.refreshNewReplicaSet(ctx, d, existing, newRevision)
	}
	if !create {
		return nil, nil
	}
	rs, err := newReplicaSetFor(d, old, newRevision)
	if err != nil {
		return nil, err
	}
	created, err := c.client.AppsV1().ReplicaSets(d.Namespace).Create(ctx, rs, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return c.onNameTaken(ctx, d, rs.Name)
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", rs.Name, err)
		c.recorder.Event(d, corev1.EventTypeWarning, reasonFailedRSCreate, msg)
		if hasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, reasonFailedRSCreate, msg, c.now()))
			_ = c.writeStatus(ctx, d) // the create error is what matters
		}
		return nil, fmt.Errorf("creating ReplicaSet for deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	if n := specReplicas(created); n > 0 {
		c.recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", created.Name, n)
	}
	if err := c.setDeploymentRevision(ctx, d, created.Annotations[revisionAnnotation]); err != nil {
		return nil, err
	}
	if hasProgressDeadline(d) {
		msg := fmt.Sprintf("Created new replica set %q", created.Name)
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonNewRSCreated, msg, c.now()))
		if err := c.writeStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return created, nil
}

// newReplicaSetFor builds the ReplicaSet for d's template: named and
// labelled by the template hash, sized as the rollout allows.
func newReplicaSetFor(d *appsv1.Deployment, old []*appsv1.ReplicaSet, newRevision int64) (*appsv1.ReplicaSet, error) {
	hash, err := templateHash(&d.Spec.Template, d.Status.CollisionCount)
	if err != nil {
		return nil, err
	}
	tmpl := d.Spec.Template.DeepCopy()
	tmpl.Labels = maps.Clone(tmpl.Labels)
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[hashLabel] = hash
	sel := d.Spec.Selector.DeepCopy()
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	sel.MatchLabels[hashLabel] = hash
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			Labels:          maps.Clone(tmpl.Labels),
			OwnerReferences: []metav1.OwnerReference{kit.ControllerRef(d, deploymentKind)},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        ptr.To(newRSReplicas(d, old, nil)),
			MinReadySeconds: d.Spec.MinReadySeconds,
			Selector:        sel,
			Template:        *tmpl,
		},
	}
	setNewRSAnnotations(d, rs, newRevision, true)
	return rs, nil
}

// refreshNewReplicaSet gives the existing new ReplicaSet the current
// revision, annotations and minReadySeconds, and records it on d.
func (c *Controller) refreshNewReplicaSet(ctx context.Context, d *appsv1.Deployment, existing *appsv1.ReplicaSet, newRevision int64) (*appsv1.ReplicaSet, error) {
	rs := existing.DeepCopy()
	changed := setNewRSAnnotations(d, rs, newRevision, false)
	if changed || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
		rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
		out, err := c.client.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, rs, metav1.UpdateOptions{})
		if err != nil {
			return nil, fmt.Errorf("updating new ReplicaSet %s/%s: %w", rs.Namespace, rs.Name, err)
		}
		rs = out
	}
	if err := c.setDeploymentRevision(ctx, d, rs.Annotations[revisionAnnotation]); err != nil {
		return nil, err
	}
	if hasProgressDeadline(d) && getCondition(&d.Status, appsv1.DeploymentProgressing) == nil {
		msg := fmt.Sprintf("Found new replica set %q", rs.Name)
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, reasonFoundNewRS, msg, c.now()))
		if err := c.writeStatus(ctx, d); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// onNameTaken handles a create that found the name taken: either the
// cache had not seen our own ReplicaSet yet, or the hash collides with a
// foreign one and the collision count goes up.
func (c *Controller) onNameTaken(ctx context.Context, d *appsv1.Deployment, name string) (*appsv1.ReplicaSet, error) {
	live, err := c.client.AppsV1().ReplicaSets(d.Namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading ReplicaSet %s/%s after a name clash: %w", d.Namespace, name, err)
	}
	if ref := metav1.GetControllerOfNoCopy(live); ref != nil && ref.UID == d.UID && equalIgnoreHash(&live.Spec.Template, &d.Spec.Template) {
		return live, nil
	}
	d.Status.CollisionCount = ptr.To(ptr.Deref(d.Status.CollisionCount, 0) + 1)
	if err := c.writeStatus(ctx, d); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("deployment %s/%s: ReplicaSet %s exists: %w", d.Namespace, d.Name, name, errHashCollision)
}

// setDeploymentRevision records the new ReplicaSet's revision on d. The
// revision is an annotation, written through the status subresource.
func (c *Controller) setDeploymentRevision(ctx context.Context, d *appsv1.Deployment, rev string) error {
	if rev == "" || d.Annotations[revisionAnnotation] == rev {
		return nil
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"annotations":     map[string]string{revisionAnnotation: rev},
		"resourceVersion": d.ResourceVersion,
	}})
	if err != nil {
		return fmt.Errorf("encoding revision patch: %w", err)
	}
	// Through the status subresource, as upstream: it keeps annotation
	// changes without bumping the generation.
	out, err := c.client.AppsV1().Deployments(d.Namespace).Patch(ctx, d.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("recording revision %s on deployment %s/%s: %w", rev, d.Namespace, d.Name, err)
	}
	d.ObjectMeta = out.ObjectMeta
	return nil
}
