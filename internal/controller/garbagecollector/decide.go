package garbagecollector

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// ownerView is what the graph knows of one owner a dependent refers to.
type ownerView struct {
	// ref is the dependent's reference to the owner.
	ref metav1.OwnerReference
	// observed is true when a monitor has shown an object with ref's UID;
	// actual is then that object.
	observed bool
	actual   objectRef
	// deletingDependents is true when the owner waits, in a foreground
	// deletion, for its dependents to go.
	deletingDependents bool
}

// needsCheck reports whether the dependent's owners must be verified
// against the API: some owner is unseen, does not match its reference
// (kind, name, or a namespace other than the dependent's), or waits for
// its dependents to be deleted. When the graph shows every owner alive and
// matching there is nothing to do until an owner changes.
func needsCheck(dependent objectRef, owners []ownerView) bool {
	for _, o := range owners {
		if !o.observed || o.deletingDependents {
			return true
		}
		if o.actual.Name != o.ref.Name || groupKindOf(o.actual.APIVersion, o.actual.Kind) != groupKindOf(o.ref.APIVersion, o.ref.Kind) {
			return true
		}
		if o.actual.Namespace != "" && o.actual.Namespace != dependent.Namespace {
			return true
		}
	}
	return false
}

// groupKindOf is the group and kind of an apiVersion and kind; an
// unparsable apiVersion yields an empty group kind.
func groupKindOf(apiVersion, kind string) schema.GroupKind {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return schema.GroupKind{}
	}
	return gv.WithKind(kind).GroupKind()
}

// ownerState is what a live look-up found for one owner reference.
type ownerState int

const (
	// ownerPresent: the owner exists with the referenced UID (or the
	// reference cannot be resolved and must be left alone).
	ownerPresent ownerState = iota
	// ownerAbsent: no object with the referenced UID exists where the
	// reference points.
	ownerAbsent
	// ownerWaiting: the owner exists and is being deleted in the
	// foreground, waiting for its dependents.
	ownerWaiting
)

func (s ownerState) String() string {
	switch s {
	case ownerPresent:
		return "present"
	case ownerAbsent:
		return "absent"
	case ownerWaiting:
		return "waiting"
	}
	return "unknown"
}

// dependentAction is what to do with a dependent whose owners were
// checked. The zero value does nothing.
type dependentAction struct {
	// patch, when true, replaces the dependent's ownerReferences by refs.
	patch bool
	refs  []metav1.OwnerReference
	// deletePolicy, when not "", deletes the dependent with this
	// propagation policy (after the patch, if any).
	deletePolicy metav1.DeletionPropagation
}

// dependentFacts is what decideDependent needs to know of a dependent.
type dependentFacts struct {
	// refs are the dependent's ownerReferences as read from the API and
	// states the live state of each.
	refs   []metav1.OwnerReference
	states []ownerState
	// finalizers are the dependent's finalizers.
	finalizers []string
	// hasDependents is true when the dependent owns objects itself, and
	// dependentsDeletingDependents when one of them is in a foreground
	// deletion (a possible ownership cycle).
	hasDependents, dependentsDeletingDependents bool
}

// decideDependent decides the fate of a dependent given its owners' live
// states:
//   - an owner remains (present): the dependent stays; references to absent
//     owners are removed and those to owners deleting in the foreground stop
//     blocking them, since this dependent will not go away;
//   - only owners waiting for their dependents remain: the dependent is
//     deleted, in the foreground when it owns objects itself so that the
//     wait covers the whole tree;
//   - no owner remains: the dependent is deleted, orphaning or in the
//     foreground if its own finalizers ask for that, else in the background.
func decideDependent(f dependentFacts) dependentAction {
	var present, absent, waiting int
	for _, s := range f.states {
		switch s {
		case ownerPresent:
			present++
		case ownerAbsent:
			absent++
		case ownerWaiting:
			waiting++
		}
	}
	switch {
	case present > 0:
		refs := keepLiveOwners(f.refs, f.states)
		if slices.EqualFunc(refs, f.refs, ownerRefEqual) {
			return dependentAction{}
		}
		return dependentAction{patch: true, refs: refs}
	case waiting > 0 && f.hasDependents:
		act := dependentAction{deletePolicy: metav1.DeletePropagationForeground}
		if f.dependentsDeletingDependents {
			// Break a possible cycle: the owners must not wait for a
			// dependent that waits for them.
			if refs := unblocked(f.refs, nil); !slices.EqualFunc(refs, f.refs, ownerRefEqual) {
				act.patch, act.refs = true, refs
			}
		}
		return act
	}
	switch {
	case slices.Contains(f.finalizers, metav1.FinalizerOrphanDependents):
		return dependentAction{deletePolicy: metav1.DeletePropagationOrphan}
	case slices.Contains(f.finalizers, metav1.FinalizerDeleteDependents):
		return dependentAction{deletePolicy: metav1.DeletePropagationForeground}
	}
	return dependentAction{deletePolicy: metav1.DeletePropagationBackground}
}

// keepLiveOwners drops the references to absent owners and unblocks the
// ones to owners waiting for their dependents.
func keepLiveOwners(refs []metav1.OwnerReference, states []ownerState) []metav1.OwnerReference {
	var kept []metav1.OwnerReference
	waiting := map[types.UID]bool{}
	for i, ref := range refs {
		switch states[i] {
		case ownerAbsent:
			continue
		case ownerWaiting:
			waiting[ref.UID] = true
		}
		kept = append(kept, ref)
	}
	return unblocked(kept, waiting)
}

// unblocked returns refs with blockOwnerDeletion cleared on the references
// to the owners in only (all of them when only is nil).
func unblocked(refs []metav1.OwnerReference, only map[types.UID]bool) []metav1.OwnerReference {
	out := make([]metav1.OwnerReference, len(refs))
	for i, ref := range refs {
		if boolValue(ref.BlockOwnerDeletion) && (only == nil || only[ref.UID]) {
			no := false
			ref.BlockOwnerDeletion = &no
		}
		out[i] = ref
	}
	return out
}

// dependentView is what an owner's sync knows of one of its dependents.
type dependentView struct {
	ref objectRef
	// deleting is true when the dependent has a deletionTimestamp,
	// deletingDependents when it is itself deleting in the foreground.
	deleting, deletingDependents bool
	// blocking is true when its reference to the owner has
	// blockOwnerDeletion set.
	blocking bool
}

// foregroundPlan decides the next step of a foreground deletion: the
// dependents to collect (those not already being deleted) and whether the
// owner is done, which it is once no dependent blocks it.
func foregroundPlan(deps []dependentView) (collect []types.UID, done bool) {
	done = true
	for _, d := range deps {
		if !d.deleting {
			collect = append(collect, d.ref.UID)
		}
		if d.blocking {
			done = false
		}
	}
	return collect, done
}

// withoutOwner returns refs without the references to owner, and whether
// there were any.
func withoutOwner(refs []metav1.OwnerReference, owner types.UID) ([]metav1.OwnerReference, bool) {
	out := slices.DeleteFunc(slices.Clone(refs), func(r metav1.OwnerReference) bool { return r.UID == owner })
	return out, len(out) != len(refs)
}

// anyDeletingDependents reports whether a dependent is in a foreground
// deletion.
func anyDeletingDependents(deps []dependentView) bool {
	return slices.ContainsFunc(deps, func(d dependentView) bool { return d.deletingDependents })
}
