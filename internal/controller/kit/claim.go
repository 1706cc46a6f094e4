package kit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Claimer adopts the orphans an owner's selector matches and releases the
// objects it controls that the selector no longer matches, as upstream
// controllers do with pods (ReplicaSet, Job, DaemonSet, StatefulSet) and
// ReplicaSets (Deployment).
type Claimer struct {
	// Owner is the controller object.
	Owner metav1.Object
	// GVK is the owner's kind, for the owner reference.
	GVK schema.GroupVersionKind
	// Selector selects the objects the owner should control.
	Selector labels.Selector
	// CanAdopt re-reads the owner (uncached) and fails if it is gone,
	// replaced or being deleted; nil skips the check.
	CanAdopt func(ctx context.Context) error
	// Patch applies a strategic-merge patch to one object.
	Patch func(ctx context.Context, namespace, name string, patch []byte) error
}

// Claim returns the objects the owner controls after adopting and
// releasing. Objects that vanish meanwhile are skipped; other errors are
// joined and returned with the objects claimed so far.
func Claim[T metav1.Object](ctx context.Context, c *Claimer, objs []T) ([]T, error) {
	// By name, so that the writes come in a stable order whatever order
	// the informer's cache lists them in.
	objs = slices.Clone(objs)
	slices.SortFunc(objs, func(a, b T) int { return strings.Compare(a.GetName(), b.GetName()) })
	var claimed []T
	var errs []error
	adoptChecked := false
	for _, o := range objs {
		ref := metav1.GetControllerOfNoCopy(o)
		match := c.Selector.Matches(labels.Set(o.GetLabels()))
		switch {
		case ref != nil && ref.UID != c.Owner.GetUID():
			continue // someone else's
		case ref != nil && (match || c.Owner.GetDeletionTimestamp() != nil):
			claimed = append(claimed, o)
		case ref != nil:
			if err := c.patch(ctx, o, releasePatch(o.GetUID(), c.Owner.GetUID())); err != nil {
				errs = append(errs, err)
				claimed = append(claimed, o) // still ours until released
			}
		case !match || c.Owner.GetDeletionTimestamp() != nil || o.GetDeletionTimestamp() != nil:
			continue
		default:
			if !adoptChecked && c.CanAdopt != nil {
				if err := c.CanAdopt(ctx); err != nil {
					return claimed, fmt.Errorf("cannot adopt for %s %s/%s: %w", c.GVK.Kind, c.Owner.GetNamespace(), c.Owner.GetName(), err)
				}
				adoptChecked = true
			}
			if err := c.patch(ctx, o, adoptPatch(o.GetUID(), ControllerRef(c.Owner, c.GVK))); err != nil {
				errs = append(errs, err)
				continue
			}
			claimed = append(claimed, o)
		}
	}
	return claimed, errors.Join(errs...)
}

func (c *Claimer) patch(ctx context.Context, o metav1.Object, patch []byte) error {
	err := c.Patch(ctx, o.GetNamespace(), o.GetName(), patch)
	if err == nil || isGone(err) {
		return nil
	}
	return fmt.Errorf("patching owner of %s/%s: %w", o.GetNamespace(), o.GetName(), err)
}

// isGone reports errors that mean the object is no longer there (deleted,
// or replaced: the UID precondition failed).
func isGone(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsConflict(err) && isUIDPrecondition(err)
}

func isUIDPrecondition(err error) bool {
	var st apierrors.APIStatus
	return errors.As(err, &st) && st.Status().Details != nil && st.Status().Details.UID != ""
}

type patchMeta struct {
	Metadata struct {
		OwnerReferences []any     `json:"ownerReferences"`
		UID             types.UID `json:"uid"`
	} `json:"metadata"`
}

// adoptPatch adds ref to an object's owner references, only if it is still
// the object with uid.
func adoptPatch(uid types.UID, ref metav1.OwnerReference) []byte {
	var p patchMeta
	p.Metadata.UID = uid
	p.Metadata.OwnerReferences = []any{ref}
	b, _ := json.Marshal(p) // plain structs: cannot fail
	return b
}

// releasePatch removes the owner reference to owner from the object uid.
func releasePatch(uid, owner types.UID) []byte {
	var p patchMeta
	p.Metadata.UID = uid
	p.Metadata.OwnerReferences = []any{map[string]any{"$patch": "delete", "uid": owner}}
	b, _ := json.Marshal(p)
	return b
}
