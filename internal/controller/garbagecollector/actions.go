package garbagecollector

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/retry"
)

// collect checks the owners of a dependent against the API and deletes
// the dependent, or removes its dangling references, as decideDependent
// says.
func (c *Controller) collect(ctx context.Context, n nodeView) error {
	latest, err := c.getLive(ctx, n.ref)
	if err != nil || latest == nil || latest.DeletionTimestamp != nil || len(latest.OwnerReferences) == 0 {
		return err
	}
	facts := dependentFacts{
		refs:                         latest.OwnerReferences,
		states:                       make([]ownerState, len(latest.OwnerReferences)),
		finalizers:                   latest.Finalizers,
		hasDependents:                len(n.dependents) > 0,
		dependentsDeletingDependents: anyDeletingDependents(n.dependents),
	}
	for i, ref := range latest.OwnerReferences {
		if facts.states[i], err = c.ownerStateOf(ctx, n.ref, ref); err != nil {
			return err
		}
	}
	act := decideDependent(facts)
	rv := latest.ResourceVersion
	if act.patch {
		patched, err := c.patchOwnerRefs(ctx, n.ref, rv, act.refs)
		if err != nil || patched == nil {
			return err
		}
		c.logger.Info("updated owner references", "object", describe(n.ref), "owners", fmt.Sprint(facts.states))
		rv = patched.ResourceVersion
	}
	if act.deletePolicy == "" {
		return nil
	}
	return c.deleteObject(ctx, n.ref, rv, act.deletePolicy)
}

// deleteDependents takes the next step of a foreground deletion: it queues
// the owner's dependents for collection and removes the foregroundDeletion
// finalizer once no dependent blocks the owner.
func (c *Controller) deleteDependents(ctx context.Context, n nodeView) error {
	if !c.synced() {
		c.queue.AddAfter(n.ref.UID, notSyncedRetry)
		return nil
	}
	collect, done := foregroundPlan(n.dependents)
	for _, uid := range collect {
		c.queue.Add(uid)
	}
	if !done {
		return nil
	}
	return c.removeFinalizer(ctx, n.ref, metav1.FinalizerDeleteDependents)
}

// orphanDependents removes the owner's reference from every dependent,
// then the orphan finalizer from the owner.
func (c *Controller) orphanDependents(ctx context.Context, n nodeView) error {
	if !c.synced() {
		c.queue.AddAfter(n.ref.UID, notSyncedRetry)
		return nil
	}
	for _, dep := range n.dependents {
		if err := c.removeOwnerRef(ctx, dep.ref, n.ref.UID); err != nil {
			return err
		}
	}
	return c.removeFinalizer(ctx, n.ref, metav1.FinalizerOrphanDependents)
}

// client returns the metadata client for the resource of ref.
func (c *Controller) client(ref objectRef) (metadata.ResourceInterface, error) {
	m, ok := c.lookup(ref.APIVersion, ref.Kind)
	if !ok {
		return nil, fmt.Errorf("no resource known for %s %s", ref.APIVersion, ref.Kind)
	}
	if m.namespaced {
		return c.metadata.Resource(m.gvr).Namespace(ref.Namespace), nil
	}
	return c.metadata.Resource(m.gvr), nil
}

// getLive reads the object ref from the API; nil when it is gone or was
// replaced by another object of the same name.
func (c *Controller) getLive(ctx context.Context, ref objectRef) (*metav1.PartialObjectMetadata, error) {
	rc, err := c.client(ref)
	if err != nil {
		return nil, err
	}
	obj, err := rc.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", describe(ref), err)
	}
	if obj.UID != ref.UID {
		return nil, nil
	}
	return obj, nil
}

// ownerStateOf looks up, live, the owner ref of dependent. A namespaced
// owner is looked for in the dependent's namespace; a cluster-scoped
// dependent cannot have one, and such a reference is left alone.
func (c *Controller) ownerStateOf(ctx context.Context, dependent objectRef, ref metav1.OwnerReference) (ownerState, error) {
	m, ok := c.lookup(ref.APIVersion, ref.Kind)
	if !ok {
		return ownerPresent, fmt.Errorf("owner %s %s of %s: kind unknown to discovery", ref.APIVersion, ref.Kind, describe(dependent))
	}
	namespace := ""
	if m.namespaced {
		if dependent.Namespace == "" {
			c.logger.Warn("cluster-scoped object names a namespaced owner; reference ignored", "object", describe(dependent), "owner", ref.Kind+"/"+ref.Name)
			return ownerPresent, nil
		}
		namespace = dependent.Namespace
	}
	if c.absent.has(ref.UID, namespace) {
		return ownerAbsent, nil
	}
	owner, err := c.metadata.Resource(m.gvr).Namespace(namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		c.absent.add(ref.UID, namespace)
		return ownerAbsent, nil
	case err != nil:
		return ownerPresent, fmt.Errorf("reading owner %s/%s of %s: %w", ref.Kind, ref.Name, describe(dependent), err)
	case owner.UID != ref.UID:
		c.absent.add(ref.UID, namespace)
		return ownerAbsent, nil
	case owner.DeletionTimestamp != nil && slices.Contains(owner.Finalizers, metav1.FinalizerDeleteDependents):
		return ownerWaiting, nil
	}
	return ownerPresent, nil
}

// deleteObject deletes ref with policy, provided it is still the object
// that was checked (same UID and resourceVersion).
func (c *Controller) deleteObject(ctx context.Context, ref objectRef, rv string, policy metav1.DeletionPropagation) error {
	rc, err := c.client(ref)
	if err != nil {
		return err
	}
	uid := ref.UID
	err = rc.Delete(ctx, ref.Name, metav1.DeleteOptions{
		Preconditions:     &metav1.Preconditions{UID: &uid, ResourceVersion: &rv},
		PropagationPolicy: &policy,
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		// A conflict means the object changed since it was checked: the
		// retry checks it again.
		return fmt.Errorf("deleting %s: %w", describe(ref), err)
	}
	c.logger.Info("deleted object", "object", describe(ref), "propagation", string(policy))
	return nil
}

// patchOwnerRefs replaces the ownerReferences of ref, provided it has not
// changed since rv. It returns nil when the object is gone.
func (c *Controller) patchOwnerRefs(ctx context.Context, ref objectRef, rv string, refs []metav1.OwnerReference) (*metav1.PartialObjectMetadata, error) {
	if refs == nil {
		refs = []metav1.OwnerReference{}
	}
	return c.patchMetadata(ctx, ref, map[string]any{"ownerReferences": refs, "resourceVersion": rv})
}

// removeOwnerRef removes the references to owner from dependent.
func (c *Controller) removeOwnerRef(ctx context.Context, dependent objectRef, owner types.UID) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest, err := c.getLive(ctx, dependent)
		if err != nil || latest == nil {
			return err
		}
		refs, changed := withoutOwner(latest.OwnerReferences, owner)
		if !changed {
			return nil
		}
		_, err = c.patchOwnerRefs(ctx, dependent, latest.ResourceVersion, refs)
		if err == nil {
			c.logger.Info("orphaned dependent", "object", describe(dependent), "owner", owner)
		}
		return err
	})
}

// removeFinalizer removes finalizer from ref; the server removes an object
// left with a deletionTimestamp and no finalizers.
func (c *Controller) removeFinalizer(ctx context.Context, ref objectRef, finalizer string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		latest, err := c.getLive(ctx, ref)
		if err != nil || latest == nil || !slices.Contains(latest.Finalizers, finalizer) {
			return err
		}
		rest := slices.DeleteFunc(slices.Clone(latest.Finalizers), func(f string) bool { return f == finalizer })
		if rest == nil {
			rest = []string{}
		}
		_, err = c.patchMetadata(ctx, ref, map[string]any{"finalizers": rest, "resourceVersion": latest.ResourceVersion})
		if err == nil {
			c.logger.Info("removed finalizer", "object", describe(ref), "finalizer", finalizer)
		}
		return err
	})
}

// patchMetadata merge-patches the metadata of ref; a resourceVersion in
// fields makes the patch conditional. It returns nil when ref is gone.
func (c *Controller) patchMetadata(ctx context.Context, ref objectRef, fields map[string]any) (*metav1.PartialObjectMetadata, error) {
	rc, err := c.client(ref)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(map[string]any{"metadata": fields})
	if err != nil {
		return nil, fmt.Errorf("encoding patch of %s: %w", describe(ref), err)
	}
	out, err := rc.Patch(ctx, ref.Name, types.MergePatchType, body, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("patching %s: %w", describe(ref), err)
	}
	return out, nil
}

func describe(ref objectRef) string {
	name := ref.Name
	if ref.Namespace != "" {
		name = ref.Namespace + "/" + name
	}
	return fmt.Sprintf("%s %s (%s)", ref.Kind, name, ref.UID)
}

// absentOwners remembers owners verified absent, by UID and the namespace
// they were looked for in. It forgets everything when full.
type absentOwners struct {
	mu    sync.Mutex
	limit int
	set   map[absentKey]bool
}

type absentKey struct {
	uid       types.UID
	namespace string
}

func newAbsentOwners(limit int) *absentOwners {
	return &absentOwners{limit: limit, set: map[absentKey]bool{}}
}

func (a *absentOwners) has(uid types.UID, namespace string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.set[absentKey{uid, namespace}]
}

func (a *absentOwners) add(uid types.UID, namespace string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.set) >= a.limit {
		clear(a.set)
	}
	a.set[absentKey{uid, namespace}] = true
}
