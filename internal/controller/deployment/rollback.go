package deployment

import (
	"context"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// rollback honours the deprecated rollback request (the
// deprecated.deployment.rollback.to annotation, which apps/v1 carries for
// extensions' spec.rollbackTo): copy the template of the ReplicaSet of
// that revision (0: the previous one) back into d, and drop the request.
// kubectl rollout undo does the copy itself and never gets here.
func (c *Controller) rollback(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet) error {
	newRS, old, err := c.replicaSetsOf(ctx, d, rsList, true)
	if err != nil {
		return err
	}
	all := withNew(old, newRS)
	to, _ := strconv.ParseInt(d.Annotations[rollbackToAnnotation], 10, 64)
	if to == 0 {
		if to = lastRevision(all); to == 0 {
			c.recorder.Event(d, corev1.EventTypeWarning, "DeploymentRollbackRevisionNotFound", "Unable to find last revision.")
			return c.clearRollback(ctx, d)
		}
	}
	for _, rs := range all {
		if revision(rs.Annotations) != to {
			continue
		}
		if equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			c.recorder.Eventf(d, corev1.EventTypeWarning, "DeploymentRollbackTemplateUnchanged",
				"The rollback revision contains the same template as current deployment %q", d.Name)
			return c.clearRollback(ctx, d)
		}
		tmpl := rs.Spec.Template.DeepCopy()
		delete(tmpl.Labels, hashLabel)
		d.Spec.Template = *tmpl
		rollbackAnnotations(d, rs)
		c.recorder.Eventf(d, corev1.EventTypeNormal, "DeploymentRollback", "Rolled back deployment %q to revision %d", d.Name, to)
		return c.clearRollback(ctx, d)
	}
	c.recorder.Event(d, corev1.EventTypeWarning, "DeploymentRollbackRevisionNotFound", "Unable to find the revision to rollback to.")
	return c.clearRollback(ctx, d)
}

// clearRollback writes d (its template possibly rolled back) without the
// rollback request.
func (c *Controller) clearRollback(ctx context.Context, d *appsv1.Deployment) error {
	delete(d.Annotations, rollbackToAnnotation)
	if _, err := c.client.AppsV1().Deployments(d.Namespace).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("clearing rollback of deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return nil
}
