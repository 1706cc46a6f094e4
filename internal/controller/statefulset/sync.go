package statefulset

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// revisions are a sync's current and update revisions.
type revisions struct {
	current, update *appsv1.ControllerRevision
}

// sync reconciles one StatefulSet: its revisions, claims and pods, its
// history and its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key of ours: nothing to retry
	}
	cached, err := c.setLister.StatefulSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expect.Forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading statefulset %s: %w", key, err)
	}
	set := cached.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil || sel.Empty() || set.DeletionTimestamp != nil {
		return nil // invalid selectors are refused by validation; deletion is the GC's
	}
	canAdopt := kit.RecheckOwner(set, "StatefulSet", func(ctx context.Context, ns, name string) (*appsv1.StatefulSet, error) {
		return c.client.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
	})
	all, err := c.history.Claim(ctx, set, kind(), sel, canAdopt)
	if err != nil {
		return err
	}
	revs, err := c.syncRevisions(ctx, set, all)
	if err != nil {
		return err
	}
	pods, err := c.claimPods(ctx, set, sel, canAdopt)
	if err != nil {
		return err
	}
	v := c.view(set, revs, pods)
	var syncErr error
	if c.expect.Satisfied(key) {
		syncErr = c.syncClaimOwners(ctx, set, v)
		st := decide(v)
		if st.wait != "" {
			c.logger.Debug("statefulset waiting", "statefulset", key, "reason", st.wait)
		}
		syncErr = errors.Join(syncErr, c.apply(ctx, set, key, st, v, revs))
	}
	if err := c.truncateHistory(ctx, set, all, revs, pods); err != nil {
		syncErr = errors.Join(syncErr, err)
	}
	if err := c.updateStatus(ctx, set, v, revs); err != nil {
		return errors.Join(syncErr, err)
	}
	if syncErr != nil {
		return syncErr
	}
	return c.requeueForAvailability(set, v)
}

// claimPods lists the namespace's pods and claims those set selects.
func (c *Controller) claimPods(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector, canAdopt func(context.Context) error) ([]*corev1.Pod, error) {
	all, err := c.podLister.Pods(set.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	return kit.ClaimPods(ctx, c.client, set, kind(), sel, canAdopt, all)
}

// syncRevisions makes the newest revision hold the set's template (the
// update revision) and finds the current revision (status.currentRevision,
// or the update revision when there is none yet).
func (c *Controller) syncRevisions(ctx context.Context, set *appsv1.StatefulSet, all []*appsv1.ControllerRevision) (revisions, error) {
	data, err := kit.TemplatePatch(&set.Spec.Template)
	if err != nil {
		return revisions{}, err
	}
	collisions := ptr.Deref(set.Status.CollisionCount, 0)
	candidate := kit.NewRevision(set, kind(), set.Spec.Template.Labels, data, kit.NextRevisionNumber(all), &collisions)
	update, err := c.history.Ensure(ctx, all, candidate, &collisions)
	if collisions != ptr.Deref(set.Status.CollisionCount, 0) {
		set.Status.CollisionCount = ptr.To(collisions)
	}
	if err != nil {
		return revisions{}, err
	}
	r := revisions{current: update, update: update}
	for _, rev := range all {
		if rev.Name == set.Status.CurrentRevision && rev.Name != update.Name {
			r.current = rev
		}
	}
	return r, nil
}

// view collects what decide needs: the strategy and the pods by ordinal
// (pods whose name is not <set>-<ordinal> are ignored).
func (c *Controller) view(set *appsv1.StatefulSet, revs revisions, pods []*corev1.Pod) view {
	v := view{
		start:           startOrdinal(set),
		replicas:        replicas(set),
		monotonic:       set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement,
		updateRev:       revs.update.Name,
		minReadySeconds: set.Spec.MinReadySeconds,
		now:             c.now(),
		pods:            map[int]*corev1.Pod{},
	}
	for _, p := range pods {
		if o, ok := ordinalOf(set, p); ok {
			v.pods[o] = p
		}
	}
	if set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return v
	}
	v.rolling, v.maxUnavailable = true, 1
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		v.partition = int(ptr.Deref(ru.Partition, 0))
		if ru.MaxUnavailable != nil {
			n, err := intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, v.replicas, true)
			if err == nil {
				v.maxUnavailable = max(n, 1)
			}
		}
	}
	return v
}

// templateFor returns the template and revision name a new pod with the
// ordinal gets: the current revision below the partition of a rolling
// update, the update revision otherwise.
func templateFor(set *appsv1.StatefulSet, v view, revs revisions, ordinal int) (*corev1.PodTemplateSpec, string, error) {
	if !v.rolling || ordinal >= v.partition || revs.current.Name == revs.update.Name {
		return &set.Spec.Template, revs.update.Name, nil
	}
	tmpl, err := kit.TemplateFromPatch(revs.current.Data.Raw)
	if err != nil {
		return nil, "", fmt.Errorf("revision %s: %w", revs.current.Name, err)
	}
	return tmpl, revs.current.Name, nil
}

// truncateHistory keeps revisionHistoryLimit (default 10) revisions
// besides the current, the update and those pods still run.
func (c *Controller) truncateHistory(ctx context.Context, set *appsv1.StatefulSet, all []*appsv1.ControllerRevision, revs revisions, pods []*corev1.Pod) error {
	live := map[string]bool{revs.current.Name: true, revs.update.Name: true}
	for _, p := range pods {
		live[revision(p)] = true
	}
	return c.history.TruncateHistory(ctx, all, live, ptr.Deref(set.Spec.RevisionHistoryLimit, 10))
}

// updateStatus writes the counts and revisions when they changed. Once
// every wanted pod is updated and ready the update revision becomes the
// current one.
func (c *Controller) updateStatus(ctx context.Context, set *appsv1.StatefulSet, v view, revs revisions) error {
	s := counts(v, revs.current.Name)
	s.ObservedGeneration = set.Generation
	s.CurrentRevision, s.UpdateRevision = revs.current.Name, revs.update.Name
	s.CollisionCount = set.Status.CollisionCount
	s.Conditions = set.Status.Conditions
	want := int32(v.replicas)
	if s.Replicas == want && s.UpdatedReplicas == want && s.ReadyReplicas == want {
		s.CurrentRevision, s.CurrentReplicas = s.UpdateRevision, s.UpdatedReplicas
	}
	if equality.Semantic.DeepEqual(set.Status, s) {
		return nil
	}
	set.Status = s
	client := c.client.AppsV1().StatefulSets(set.Namespace)
	_, err := client.UpdateStatus(ctx, set, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		// The cache lags our own last write: retry once on the fresh object.
		fresh, gerr := client.Get(ctx, set.Name, metav1.GetOptions{})
		if gerr == nil && fresh.UID == set.UID {
			fresh.Status = s
			_, err = client.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
		}
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating status of statefulset %s/%s: %w", set.Namespace, set.Name, err)
	}
	return nil
}

// requeueForAvailability looks again when the first ready pod becomes
// available (minReadySeconds), since no watch event marks that moment.
func (c *Controller) requeueForAvailability(set *appsv1.StatefulSet, v view) error {
	if set.Spec.MinReadySeconds <= 0 {
		return nil
	}
	var next time.Time
	for _, p := range v.pods {
		at := kit.AvailableAt(p, set.Spec.MinReadySeconds)
		if !at.IsZero() && at.After(v.now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if next.IsZero() {
		return nil
	}
	return kit.RequeueAfter(next.Sub(v.now) + 100*time.Millisecond)
}
