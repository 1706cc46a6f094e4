package daemonset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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

// templateGenerationLabel is the deprecated label upstream still puts on
// daemon pods: the DaemonSet's generation when the pod was created.
const templateGenerationLabel = "pod-template-generation"

// sync reconciles one DaemonSet: its revision, its pods on every node,
// the rolling update, its history and its status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil // not a key of ours: nothing to retry
	}
	cached, err := c.dsLister.DaemonSets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.expect.Forget(key)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading daemonset %s: %w", key, err)
	}
	ds := cached.DeepCopy()
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil || sel.Empty() || ds.DeletionTimestamp != nil {
		return nil // invalid selectors are refused by validation; deletion is the GC's
	}
	canAdopt := kit.RecheckOwner(ds, "DaemonSet", func(ctx context.Context, ns, name string) (*appsv1.DaemonSet, error) {
		return c.client.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	})
	revs, err := c.history.Claim(ctx, ds, kind(), sel, canAdopt)
	if err != nil {
		return err
	}
	rev, err := c.syncRevision(ctx, ds, revs)
	if err != nil {
		return err
	}
	hash := rev.Labels[appsv1.DefaultDaemonSetUniqueLabelKey]
	pods, err := c.claimPods(ctx, ds, sel, canAdopt)
	if err != nil {
		return err
	}
	nodes, err := c.nodeLister.List(labels.Everything())
	if err != nil {
		return fmt.Errorf("listing nodes: %w", err)
	}
	states := nodeStates(ds, nodes, pods)
	r := c.rollout(ds, hash, states)
	var syncErr error
	if c.expect.Satisfied(key) {
		syncErr = c.apply(ctx, ds, key, hash, makePlan(states, r))
	}
	if err := c.truncateHistory(ctx, ds, revs, rev, pods); err != nil {
		syncErr = errors.Join(syncErr, err)
	}
	if err := c.updateStatus(ctx, ds, counts(states, r)); err != nil {
		return errors.Join(syncErr, err)
	}
	if syncErr != nil {
		return syncErr
	}
	return c.requeueForAvailability(ds, states)
}

// claimPods lists the namespace's pods and claims those ds selects.
func (c *Controller) claimPods(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector, canAdopt func(context.Context) error) ([]*corev1.Pod, error) {
	all, err := c.podLister.Pods(ds.Namespace).List(labels.Everything())
	if err != nil {
		return nil, fmt.Errorf("listing pods: %w", err)
	}
	return kit.ClaimPods(ctx, c.client, ds, kind(), sel, canAdopt, all)
}

// nodeStates groups the pods by target node and decides every node; pods
// pinned to nodes that no longer exist get a state that removes them.
func nodeStates(ds *appsv1.DaemonSet, nodes []*corev1.Node, pods []*corev1.Pod) []nodeState {
	spec := ds.Spec.Template.Spec.DeepCopy()
	addDefaultTolerations(spec)
	byNode := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if n := targetNode(p); n != "" {
			byNode[n] = append(byNode[n], p)
		}
	}
	states := make([]nodeState, 0, len(nodes))
	for _, n := range nodes {
		states = append(states, nodeState{name: n.Name, place: nodePlacement(spec, n), pods: oldestFirst(byNode[n.Name])})
		delete(byNode, n.Name)
	}
	for name, ps := range byNode {
		states = append(states, nodeState{name: name, pods: oldestFirst(ps)})
	}
	slices.SortFunc(states, func(a, b nodeState) int { return strings.Compare(a.name, b.name) })
	return states
}

func oldestFirst(pods []*corev1.Pod) []*corev1.Pod {
	slices.SortStableFunc(pods, func(a, b *corev1.Pod) int {
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			if a.CreationTimestamp.Before(&b.CreationTimestamp) {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return pods
}

// rollout resolves the update strategy against the desired pod count.
func (c *Controller) rollout(ds *appsv1.DaemonSet, hash string, states []nodeState) rollout {
	r := rollout{hash: hash, minReadySeconds: ds.Spec.MinReadySeconds, now: c.now()}
	if ds.Spec.UpdateStrategy.Type == appsv1.OnDeleteDaemonSetStrategyType {
		return r
	}
	r.rolling = true
	desired := 0
	for _, s := range states {
		if s.place.run {
			desired++
		}
	}
	unavail, surge := intstr.FromInt32(1), intstr.FromInt32(0)
	if ru := ds.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		unavail = ptr.Deref(ru.MaxUnavailable, unavail)
		surge = ptr.Deref(ru.MaxSurge, surge)
	}
	r.maxUnavailable, _ = intstr.GetScaledValueFromIntOrPercent(&unavail, desired, true)
	r.maxSurge, _ = intstr.GetScaledValueFromIntOrPercent(&surge, desired, true)
	if r.maxUnavailable == 0 && r.maxSurge == 0 {
		r.maxUnavailable = 1
	}
	return r
}

// requeueForAvailability looks again when the first ready pod becomes
// available (minReadySeconds), since no watch event marks that moment.
func (c *Controller) requeueForAvailability(ds *appsv1.DaemonSet, states []nodeState) error {
	if ds.Spec.MinReadySeconds <= 0 {
		return nil
	}
	now := c.now()
	var next time.Time
	for _, s := range states {
		for _, p := range s.pods {
			at := kit.AvailableAt(p, ds.Spec.MinReadySeconds)
			if !at.IsZero() && at.After(now) && (next.IsZero() || at.Before(next)) {
				next = at
			}
		}
	}
	if next.IsZero() {
		return nil
	}
	return kit.RequeueAfter(next.Sub(now) + 100*time.Millisecond)
}

// updateStatus writes the counts when they changed.
func (c *Controller) updateStatus(ctx context.Context, ds *appsv1.DaemonSet, s appsv1.DaemonSetStatus) error {
	s.ObservedGeneration = ds.Generation
	s.CollisionCount = ds.Status.CollisionCount
	s.Conditions = ds.Status.Conditions
	if equality.Semantic.DeepEqual(ds.Status, s) {
		return nil
	}
	ds.Status = s
	client := c.client.AppsV1().DaemonSets(ds.Namespace)
	_, err := client.UpdateStatus(ctx, ds, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		// The cache lags our own last write: retry once on the fresh object.
		fresh, gerr := client.Get(ctx, ds.Name, metav1.GetOptions{})
		if gerr == nil && fresh.UID == ds.UID {
			fresh.Status = s
			_, err = client.UpdateStatus(ctx, fresh, metav1.UpdateOptions{})
		}
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("updating status of daemonset %s/%s: %w", ds.Namespace, ds.Name, err)
	}
	return nil
}

// parallel runs fn for 0..n-1 concurrently and joins the errors.
func parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
