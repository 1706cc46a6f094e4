package garbagecollector

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func ownerRef(kind, name string, uid types.UID, block bool) metav1.OwnerReference {
	apiVersion := "v1"
	if kind == "ReplicaSet" || kind == "Deployment" {
		apiVersion = "apps/v1"
	}
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: uid, BlockOwnerDeletion: &block}
}

func TestDecideDependent(t *testing.T) {
	a := ownerRef("ConfigMap", "a", "uid-a", true)
	b := ownerRef("ConfigMap", "b", "uid-b", false)
	unblockedA := ownerRef("ConfigMap", "a", "uid-a", false)
	tests := []struct {
		name  string
		facts dependentFacts
		want  dependentAction
	}{{
		name:  "owner present: keep",
		facts: dependentFacts{refs: []metav1.OwnerReference{a}, states: []ownerState{ownerPresent}},
		want:  dependentAction{},
	}, {
		name:  "only owner absent: background delete",
		facts: dependentFacts{refs: []metav1.OwnerReference{a}, states: []ownerState{ownerAbsent}},
		want:  dependentAction{deletePolicy: metav1.DeletePropagationBackground},
	}, {
		name:  "all owners absent: background delete",
		facts: dependentFacts{refs: []metav1.OwnerReference{a, b}, states: []ownerState{ownerAbsent, ownerAbsent}},
		want:  dependentAction{deletePolicy: metav1.DeletePropagationBackground},
	}, {
		name:  "one owner absent, one present: drop the dangling reference",
		facts: dependentFacts{refs: []metav1.OwnerReference{a, b}, states: []ownerState{ownerAbsent, ownerPresent}},
		want:  dependentAction{patch: true, refs: []metav1.OwnerReference{b}},
	}, {
		name:  "present owner and blocked waiting owner: unblock it",
		facts: dependentFacts{refs: []metav1.OwnerReference{a, b}, states: []ownerState{ownerWaiting, ownerPresent}},
		want:  dependentAction{patch: true, refs: []metav1.OwnerReference{unblockedA, b}},
	}, {
		name:  "present owner and non-blocking waiting owner: nothing to change",
		facts: dependentFacts{refs: []metav1.OwnerReference{b, a}, states: []ownerState{ownerWaiting, ownerPresent}},
		want:  dependentAction{},
	}, {
		name:  "only a waiting owner, no own dependents: background delete",
		facts: dependentFacts{refs: []metav1.OwnerReference{a}, states: []ownerState{ownerWaiting}},
		want:  dependentAction{deletePolicy: metav1.DeletePropagationBackground},
	}, {
		name:  "only a waiting owner, own dependents: foreground delete",
		facts: dependentFacts{refs: []metav1.OwnerReference{a}, states: []ownerState{ownerWaiting}, hasDependents: true},
		want:  dependentAction{deletePolicy: metav1.DeletePropagationForeground},
	}, {
		name: "waiting owner and a dependent deleting in the foreground: unblock, then foreground delete",
		facts: dependentFacts{refs: []metav1.OwnerReference{a}, states: []ownerState{ownerWaiting},
			hasDependents: true, dependentsDeletingDependents: true},
		want: dependentAction{patch: true, refs: []metav1.OwnerReference{unblockedA}, deletePolicy: metav1.DeletePropagationForeground},
	}, {
		name:  "waiting and absent owners: delete",
		facts: dependentFacts{refs: []metav1.OwnerReference{a, b}, states: []ownerState{ownerWaiting, ownerAbsent}},
		want:  dependentAction{deletePolicy: metav1.DeletePropagationBackground},
	}, {
		name: "no owner left, dependent asks for orphaning: orphan delete",
		facts: dependentFacts{refs: []metav1.OwnerReference{a}, states: []ownerState{ownerAbsent},
			finalizers: []string{metav1.FinalizerOrphanDependents}},
		want: dependentAction{deletePolicy: metav1.DeletePropagationOrphan},
	}, {
		name: "no owner left, dependent asks for foreground: foreground delete",
		facts: dependentFacts{refs: []metav1.OwnerReference{a}, states: []ownerState{ownerAbsent},
			finalizers: []string{"example.com/other", metav1.FinalizerDeleteDependents}},
		want: dependentAction{deletePolicy: metav1.DeletePropagationForeground},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decideDependent(tt.facts)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decideDependent() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecideDependentLeavesInputAlone(t *testing.T) {
	a := ownerRef("ConfigMap", "a", "uid-a", true)
	refs := []metav1.OwnerReference{a, ownerRef("ConfigMap", "b", "uid-b", false)}
	decideDependent(dependentFacts{refs: refs, states: []ownerState{ownerWaiting, ownerPresent}})
	if !*refs[0].BlockOwnerDeletion {
		t.Fatal("decideDependent changed the caller's owner references")
	}
}

func TestNeedsCheck(t *testing.T) {
	dep := objectRef{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: "p", UID: "uid-p"}
	rs := ownerRef("ReplicaSet", "rs", "uid-rs", true)
	rsObject := objectRef{APIVersion: "apps/v1", Kind: "ReplicaSet", Namespace: "ns", Name: "rs", UID: "uid-rs"}
	node := ownerRef("Node", "n1", "uid-n1", false)
	nodeObject := objectRef{APIVersion: "v1", Kind: "Node", Name: "n1", UID: "uid-n1"}
	with := func(ref objectRef, change func(*objectRef)) objectRef {
		change(&ref)
		return ref
	}
	tests := []struct {
		name   string
		owners []ownerView
		want   bool
	}{
		{"no owners", nil, false},
		{"owner observed and matching", []ownerView{{ref: rs, observed: true, actual: rsObject}}, false},
		{"cluster-scoped owner of a namespaced dependent", []ownerView{{ref: node, observed: true, actual: nodeObject}}, false},
		{"other version of the owner's group", []ownerView{{ref: rs, observed: true,
			actual: with(rsObject, func(r *objectRef) { r.APIVersion = "apps/v1beta2" })}}, false},
		{"owner never seen", []ownerView{{ref: rs}}, true},
		{"owner waiting for its dependents", []ownerView{{ref: rs, observed: true, actual: rsObject, deletingDependents: true}}, true},
		{"owner in another namespace", []ownerView{{ref: rs, observed: true,
			actual: with(rsObject, func(r *objectRef) { r.Namespace = "other" })}}, true},
		{"owner UID names another object", []ownerView{{ref: rs, observed: true,
			actual: with(rsObject, func(r *objectRef) { r.Name = "other" })}}, true},
		{"owner UID of another kind", []ownerView{{ref: rs, observed: true,
			actual: with(rsObject, func(r *objectRef) { r.Kind = "Deployment" })}}, true},
		{"one of two owners unseen", []ownerView{{ref: node, observed: true, actual: nodeObject}, {ref: rs}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := needsCheck(dep, tt.owners); got != tt.want {
				t.Errorf("needsCheck() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestForegroundPlan(t *testing.T) {
	dep := func(uid types.UID, deleting, blocking bool) dependentView {
		return dependentView{ref: objectRef{UID: uid}, deleting: deleting, blocking: blocking}
	}
	tests := []struct {
		name        string
		deps        []dependentView
		wantCollect []types.UID
		wantDone    bool
	}{
		{"no dependents", nil, nil, true},
		{"blocking dependents alive", []dependentView{dep("x", false, true), dep("y", false, false)}, []types.UID{"x", "y"}, false},
		{"blocking dependent being deleted", []dependentView{dep("x", true, true)}, nil, false},
		{"only non-blocking dependents", []dependentView{dep("x", false, false), dep("y", true, false)}, []types.UID{"x"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			collect, done := foregroundPlan(tt.deps)
			if !reflect.DeepEqual(collect, tt.wantCollect) || done != tt.wantDone {
				t.Errorf("foregroundPlan() = %v, %v; want %v, %v", collect, done, tt.wantCollect, tt.wantDone)
			}
		})
	}
}

func TestWithoutOwner(t *testing.T) {
	a, b := ownerRef("ConfigMap", "a", "uid-a", true), ownerRef("ConfigMap", "b", "uid-b", false)
	tests := []struct {
		name        string
		refs        []metav1.OwnerReference
		owner       types.UID
		want        []metav1.OwnerReference
		wantChanged bool
	}{
		{"removes the owner", []metav1.OwnerReference{a, b}, "uid-a", []metav1.OwnerReference{b}, true},
		{"last reference", []metav1.OwnerReference{a}, "uid-a", []metav1.OwnerReference{}, true},
		{"not referenced", []metav1.OwnerReference{b}, "uid-a", []metav1.OwnerReference{b}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := withoutOwner(tt.refs, tt.owner)
			if !reflect.DeepEqual(got, tt.want) || changed != tt.wantChanged {
				t.Errorf("withoutOwner() = %v, %v; want %v, %v", got, changed, tt.want, tt.wantChanged)
			}
		})
	}
}
