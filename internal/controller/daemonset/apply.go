package daemonset

import (
	"context"
	"errors"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// apply carries out a plan: deletions at once, creations in batches that
// double in size (1, 2, 4, ...) and stop at the first failing batch, so a
// DaemonSet that cannot create pods does not flood the API.
func (c *Controller) apply(ctx context.Context, ds *appsv1.DaemonSet, key, hash string, p plan) error {
	for _, pod := range p.failed {
		c.recorder.Eventf(ds, corev1.EventTypeWarning, "FailedDaemonPod",
			"Found failed daemon pod %s/%s on node %s, will try to kill it", pod.Namespace, pod.Name, targetNode(pod))
	}
	err := c.deletePods(ctx, ds, key, p.delete)
	for start, batch := 0, 1; start < len(p.create); start, batch = start+batch, batch*2 {
		nodes := p.create[start:min(start+batch, len(p.create))]
		if cerr := c.createPods(ctx, ds, key, hash, nodes); cerr != nil {
			return errors.Join(err, cerr)
		}
	}
	return err
}

func (c *Controller) deletePods(ctx context.Context, ds *appsv1.DaemonSet, key string, pods []*corev1.Pod) error {
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
			c.recorder.Eventf(ds, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
			return err
		}
		c.recorder.Eventf(ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", pods[i].Name)
		return nil
	})
}

func (c *Controller) createPods(ctx context.Context, ds *appsv1.DaemonSet, key, hash string, nodes []string) error {
	c.expect.ExpectCreations(key, len(nodes))
	return parallel(len(nodes), func(i int) error {
		created, err := kit.CreatePod(ctx, c.client, podForNode(ds, hash, nodes[i]))
		if err != nil {
			c.expect.CreationObserved(key)
			c.recorder.Eventf(ds, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
			return err
		}
		c.recorder.Eventf(ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", created.Name)
		return nil
	})
}

// podForNode is the DaemonSet's pod for one node: the template with the
// revision hash and template generation labels, the default tolerations,
// and a required node affinity on the node's name.
func podForNode(ds *appsv1.DaemonSet, hash, node string) *corev1.Pod {
	pod := kit.PodFromTemplate(&ds.Spec.Template, ds.Namespace, "", kit.ControllerRef(ds, kind()))
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = hash
	pod.Labels[templateGenerationLabel] = strconv.FormatInt(ds.Generation, 10)
	addDefaultTolerations(&pod.Spec)
	pinToNode(&pod.Spec, node)
	return pod
}

// syncRevision makes the DaemonSet's newest ControllerRevision hold its
// current template, raising the collision count (kept in ds.Status and
// written with the status) if a hash collides.
func (c *Controller) syncRevision(ctx context.Context, ds *appsv1.DaemonSet, revs []*appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	data, err := kit.TemplatePatch(&ds.Spec.Template)
	if err != nil {
		return nil, err
	}
	collisions := ptr.Deref(ds.Status.CollisionCount, 0)
	candidate := kit.NewRevision(ds, kind(), ds.Spec.Template.Labels, data, kit.NextRevisionNumber(revs), &collisions)
	rev, err := c.history.Ensure(ctx, revs, candidate, &collisions)
	if collisions != ptr.Deref(ds.Status.CollisionCount, 0) {
		ds.Status.CollisionCount = ptr.To(collisions)
	}
	return rev, err
}

// truncateHistory keeps revisionHistoryLimit (default 10) revisions that
// no pod runs, besides the current one.
func (c *Controller) truncateHistory(ctx context.Context, ds *appsv1.DaemonSet, revs []*appsv1.ControllerRevision, cur *appsv1.ControllerRevision, pods []*corev1.Pod) error {
	hashes := map[string]bool{}
	for _, p := range pods {
		hashes[p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] = true
	}
	live := map[string]bool{cur.Name: true}
	for _, r := range revs {
		if hashes[r.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]] {
			live[r.Name] = true
		}
	}
	return c.history.TruncateHistory(ctx, revs, live, ptr.Deref(ds.Spec.RevisionHistoryLimit, 10))
}
