package apiserver

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiffkube/skiff/internal/apiserver/registry"
	"github.com/skiffkube/skiff/internal/storage"
)

// writeOptions are the options common to create, update and patch.
type writeOptions struct {
	DryRun       bool
	FieldManager string
	// Subresource is "" or "status" for writes.
	Subresource string
	// Applied marks server-side apply, whose field manager already
	// recorded the managed fields.
	Applied bool
	// Internal marks an update computed by the server itself (binding,
	// namespace deletion): what it sets is kept as is.
	Internal bool
}

// create runs the create life cycle and writes obj.
func (s *resourceStore) create(ctx context.Context, obj runtime.Object, opts writeOptions) (runtime.Object, error) {
	m := objectMeta(obj)
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(generateName(m.GetGenerateName()))
	}
	s.prepareCreate(obj)
	if err := s.validateCreate(obj); err != nil {
		return nil, err
	}
	if !opts.Applied {
		obj = s.fieldManagers[""].UpdateNoErrors(s.newObject(), obj, opts.FieldManager)
	}
	undo := func() {}
	if s.hooks.beforeCreate != nil {
		u, err := s.hooks.beforeCreate(ctx, obj, opts.DryRun)
		if err != nil {
			return nil, err
		}
		undo = u
	}
	if opts.DryRun {
		undo()
		return obj, nil
	}
	data, err := s.encode(obj)
	if err != nil {
		undo()
		return nil, apierrors.NewInternalError(err)
	}
	// Once admission has charged a quota, the write must finish or fail
	// for certain: a cancelled request could otherwise store the object
	// while the charge is given back.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), quotaWriteTimeout)
	defer cancel()
	rev, err := s.store.Create(wctx, s.key(m.GetNamespace(), m.GetName()), data)
	if err != nil {
		undo()
		if errors.Is(err, storage.ErrKeyExists) && m.GetGenerateName() != "" && m.GetName() != "" {
			return nil, apierrors.NewServerTimeout(s.gr, "POST", 0)
		}
		return nil, s.storageError(err, m.GetName())
	}
	m.SetResourceVersion(fmt.Sprint(rev))
	return obj, nil
}

// prepareCreate sets what the server owns on a new object.
func (s *resourceStore) prepareCreate(obj runtime.Object) {
	m := objectMeta(obj)
	m.SetUID(types.UID(uuid.NewUUID()))
	m.SetCreationTimestamp(s.now())
	m.SetResourceVersion("")
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetSelfLink("")
	if hasSpec(obj) {
		m.SetGeneration(1)
	} else {
		m.SetGeneration(0)
	}
	if s.res.HasSubresource("status") && s.res.Kind != "Node" {
		resetStatus(obj)
	}
	s.res.Strategy.Default(obj)
	s.res.Strategy.PrepareForCreate(obj)
}

func (s *resourceStore) validateCreate(obj runtime.Object) error {
	m := objectMeta(obj)
	errs := registry.ValidateObjectMeta(obj, s.gvk, s.res.Namespaced)
	errs = append(errs, s.res.Strategy.Validate(obj)...)
	if len(errs) > 0 {
		return errInvalid(s.gvk.GroupKind(), m.GetName(), errs)
	}
	return nil
}

// updateFunc turns the stored object into the desired one. It gets a deep
// copy it may change.
type updateFunc func(old runtime.Object) (runtime.Object, error)

// update reads the current object, applies fn, runs the update life cycle
// and writes the result with compare-and-swap, retrying on conflicts when
// the caller set no resourceVersion. createFn, when set, creates the object
// if it does not exist (PUT of a type that allows create-on-update, or
// server-side apply).
func (s *resourceStore) update(ctx context.Context, ns, name string, fn updateFunc, createFn func() (runtime.Object, error), opts writeOptions) (runtime.Object, bool, error) {
	for attempt := 0; ; attempt++ {
		old, rev, err := s.get(ctx, ns, name)
		if apierrors.IsNotFound(err) && createFn != nil {
			obj, err := createFn()
			if err != nil {
				return nil, false, err
			}
			created, err := s.create(ctx, obj, opts)
			if apierrors.IsAlreadyExists(err) && attempt < 5 {
				continue
			}
			return created, err == nil, err
		}
		if err != nil {
			return nil, false, err
		}
		obj, err := fn(old.DeepCopyObject())
		if err != nil {
			return nil, false, err
		}
		m := objectMeta(obj)
		requestedRV := m.GetResourceVersion()
		if requestedRV != "" && requestedRV != fmt.Sprint(rev) {
			return nil, false, s.storageError(storage.ErrConflict, name)
		}
		// No resourceVersion asks for an unconditional update: it applies
		// to what was just read (and retries on a conflict).
		m.SetResourceVersion(fmt.Sprint(rev))
		if err := s.prepareUpdate(obj, old, opts); err != nil {
			return nil, false, err
		}
		undo := func() {}
		if s.hooks.beforeUpdate != nil && opts.Subresource == "" {
			u, err := s.hooks.beforeUpdate(ctx, obj, old, opts.DryRun)
			if err != nil {
				return nil, false, err
			}
			undo = u
		}
		// A finalized object whose last finalizer is gone is deleted.
		if m.GetDeletionTimestamp() != nil && removable(obj) {
			if opts.DryRun {
				return obj, false, nil
			}
			if _, _, err := s.store.Delete(ctx, s.key(ns, name), rev); err != nil {
				undo()
				if errors.Is(err, storage.ErrConflict) && requestedRV == "" {
					continue
				}
				return nil, false, s.storageError(err, name)
			}
			s.afterDelete(ctx, obj)
			return obj, false, nil
		}
		m.SetResourceVersion(fmt.Sprint(rev))
		if equality.Semantic.DeepEqual(obj, old) || opts.DryRun {
			undo()
			return obj, false, nil
		}
		data, err := s.encode(obj)
		if err != nil {
			undo()
			return nil, false, apierrors.NewInternalError(err)
		}
		newRev, err := s.store.Update(ctx, s.key(ns, name), data, rev)
		if err != nil {
			undo()
			if errors.Is(err, storage.ErrConflict) && requestedRV == "" && attempt < 20 {
				continue
			}
			return nil, false, s.storageError(err, name)
		}
		m.SetResourceVersion(fmt.Sprint(newRev))
		return obj, false, nil
	}
}

// prepareUpdate keeps what the client may not change, runs defaulting,
// validation and field management.
func (s *resourceStore) prepareUpdate(obj, old runtime.Object, opts writeOptions) error {
	m, om := objectMeta(obj), objectMeta(old)
	if m.GetName() != om.GetName() {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), om.GetName()))
	}
	if s.res.Namespaced && m.GetNamespace() != om.GetNamespace() {
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	if opts.Internal {
		s.res.Strategy.Default(obj)
		return nil
	}
	// Server-owned metadata.
	m.SetUID(om.GetUID())
	m.SetCreationTimestamp(om.GetCreationTimestamp())
	m.SetDeletionTimestamp(om.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
	m.SetGeneration(om.GetGeneration())
	m.SetSelfLink("")
	if om.GetDeletionTimestamp() != nil && len(m.GetFinalizers()) > len(om.GetFinalizers()) {
		if !subsetOf(m.GetFinalizers(), om.GetFinalizers()) {
			return apierrors.NewForbidden(s.gr, m.GetName(), errors.New("no new finalizers can be added if the object is being deleted"))
		}
	}
	switch opts.Subresource {
	case "finalize":
		// namespaces/finalize changes spec.finalizers only.
		copyField(obj, old, "Status")
		m.SetLabels(om.GetLabels())
		m.SetAnnotations(om.GetAnnotations())
		m.SetFinalizers(om.GetFinalizers())
		m.SetOwnerReferences(om.GetOwnerReferences())
	case "status":
		// Only the status changes through the status subresource, except
		// that the apps workloads' status may carry metadata, as upstream:
		// controllers record revisions in annotations (and ReplicaSets'
		// labels) without bumping the generation.
		copyField(obj, old, "Spec")
		apps := s.gvk.Group == "apps"
		if !apps || s.gvk.Kind == "Deployment" {
			m.SetLabels(om.GetLabels())
		}
		if !apps {
			m.SetAnnotations(om.GetAnnotations())
		}
		m.SetFinalizers(om.GetFinalizers())
		m.SetOwnerReferences(om.GetOwnerReferences())
	default:
		if s.res.HasSubresource("status") {
			copyField(obj, old, "Status")
		}
	}
	s.res.Strategy.Default(obj)
	if opts.Subresource != "finalize" {
		// The strategy guards spec fields (namespace finalizers among them)
		// that the finalize subresource exists to change.
		s.res.Strategy.PrepareForUpdate(obj, old)
	}
	if opts.Subresource == "status" {
		// A status write never starts a new generation, even where the
		// type's strategy counts metadata changes (Deployment annotations).
		m.SetGeneration(om.GetGeneration())
	}
	if hasSpec(obj) && specChanged(obj, old) {
		m.SetGeneration(om.GetGeneration() + 1)
	}
	errs := registry.ValidateObjectMetaUpdate(obj, old)
	if opts.Subresource == "" {
		errs = append(errs, s.res.Strategy.ValidateUpdate(obj, old)...)
	} else if validate, ok := registry.CoreSubresourceValidator(s.gvk, opts.Subresource); ok {
		errs = append(errs, validate(obj, old)...)
	}
	if len(errs) > 0 {
		return errInvalid(s.gvk.GroupKind(), m.GetName(), errs)
	}
	if opts.Applied {
		return nil
	}
	fm := s.fieldManagers[opts.Subresource]
	if fm == nil {
		fm = s.fieldManagers[""]
	}
	updated := fm.UpdateNoErrors(old, obj, opts.FieldManager)
	objectMeta(obj).SetManagedFields(objectMeta(updated).GetManagedFields())
	return nil
}

func subsetOf(a, b []string) bool {
	set := map[string]bool{}
	for _, x := range b {
		set[x] = true
	}
	for _, x := range a {
		if !set[x] {
			return false
		}
	}
	return true
}

// deleteResult says what a delete did.
type deleteResult struct {
	obj runtime.Object
	// gone is true when the object was removed from the store; false when
	// it was only marked (finalizers or graceful pod deletion).
	gone bool
}

// delete runs the delete life cycle: preconditions, graceful deletion,
// finalizers (including the propagation policy's), then removal.
func (s *resourceStore) delete(ctx context.Context, ns, name string, opts metav1.DeleteOptions) (deleteResult, error) {
	dryRun := len(opts.DryRun) > 0
	for attempt := 0; ; attempt++ {
		old, rev, err := s.get(ctx, ns, name)
		if err != nil {
			return deleteResult{}, err
		}
		m := objectMeta(old)
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != m.GetUID() {
				return deleteResult{}, apierrors.NewConflict(s.gr, name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
				return deleteResult{}, apierrors.NewConflict(s.gr, name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
			}
		}
		obj := old.DeepCopyObject()
		om := objectMeta(obj)
		mark := s.markForDeletion(obj, opts)
		if !mark {
			if dryRun {
				return deleteResult{obj: old, gone: true}, nil
			}
			if _, _, err := s.store.Delete(ctx, s.key(ns, name), rev); err != nil {
				if errors.Is(err, storage.ErrConflict) && attempt < 20 {
					continue
				}
				return deleteResult{}, s.storageError(err, name)
			}
			s.afterDelete(ctx, old)
			return deleteResult{obj: old, gone: true}, nil
		}
		if equality.Semantic.DeepEqual(obj, old) || dryRun {
			return deleteResult{obj: obj}, nil
		}
		data, err := s.encode(obj)
		if err != nil {
			return deleteResult{}, apierrors.NewInternalError(err)
		}
		newRev, err := s.store.Update(ctx, s.key(ns, name), data, rev)
		if err != nil {
			if errors.Is(err, storage.ErrConflict) && attempt < 20 {
				continue
			}
			return deleteResult{}, s.storageError(err, name)
		}
		om.SetResourceVersion(fmt.Sprint(newRev))
		return deleteResult{obj: obj}, nil
	}
}

// markForDeletion decides whether obj must wait before removal and, if so,
// stamps it (deletionTimestamp, propagation finalizers). It returns false
// when the object can be removed right away.
func (s *resourceStore) markForDeletion(obj runtime.Object, opts metav1.DeleteOptions) bool {
	m := objectMeta(obj)
	finalizers := m.GetFinalizers()
	policy := opts.PropagationPolicy
	if policy == nil && opts.OrphanDependents != nil {
		p := metav1.DeletePropagationBackground
		if *opts.OrphanDependents {
			p = metav1.DeletePropagationOrphan
		}
		policy = &p
	}
	if policy != nil && m.GetDeletionTimestamp() == nil {
		switch *policy {
		case metav1.DeletePropagationForeground:
			finalizers = addString(removeString(finalizers, metav1.FinalizerOrphanDependents), metav1.FinalizerDeleteDependents)
		case metav1.DeletePropagationOrphan:
			finalizers = addString(removeString(finalizers, metav1.FinalizerDeleteDependents), metav1.FinalizerOrphanDependents)
		}
		m.SetFinalizers(finalizers)
	}
	grace := s.gracePeriod(obj, opts)
	if len(finalizers) == 0 && grace == 0 {
		return false
	}
	if m.GetDeletionTimestamp() == nil {
		now := s.now()
		ts := metav1.NewTime(now.Add(secondsDuration(grace)))
		m.SetDeletionTimestamp(&ts)
		m.SetDeletionGracePeriodSeconds(&grace)
		if hasSpec(obj) {
			m.SetGeneration(m.GetGeneration() + 1)
		}
	} else if cur := m.GetDeletionGracePeriodSeconds(); cur != nil && grace < *cur {
		// A shorter grace period may replace a longer one.
		ts := metav1.NewTime(s.now().Add(secondsDuration(grace)))
		m.SetDeletionTimestamp(&ts)
		m.SetDeletionGracePeriodSeconds(&grace)
	}
	if grace == 0 && len(m.GetFinalizers()) == 0 {
		return false
	}
	return true
}

// gracePeriod is the graceful-deletion period of obj: only pods bound to a
// node that have not finished wait for their agent.
func (s *resourceStore) gracePeriod(obj runtime.Object, opts metav1.DeleteOptions) int64 {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return 0
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if opts.GracePeriodSeconds != nil {
		grace = *opts.GracePeriodSeconds
		if grace < 0 {
			grace = 0
		}
	}
	if cur := pod.DeletionGracePeriodSeconds; cur != nil && *cur < grace {
		grace = *cur
	}
	return grace
}

func (s *resourceStore) afterDelete(ctx context.Context, obj runtime.Object) {
	if s.hooks.afterDelete != nil {
		s.hooks.afterDelete(ctx, obj)
	}
}

func addString(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func removeString(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// fieldErr is a one-error list, for handlers that refuse one field.
func fieldErr(err *field.Error) field.ErrorList { return field.ErrorList{err} }
