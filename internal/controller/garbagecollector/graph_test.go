package garbagecollector

import (
	"reflect"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func configMap(name string, uid types.UID, owners ...metav1.OwnerReference) observation {
	return observation{ref: objectRef{APIVersion: "v1", Kind: "ConfigMap", Namespace: "ns", Name: name, UID: uid}, owners: owners}
}

func deleting(o observation, finalizers ...string) observation {
	o.deleting, o.finalizers = true, finalizers
	return o
}

// step is one event fed to the graph and the UIDs it must ask to sync.
type step struct {
	observe  *observation
	forget   types.UID
	wantSync []types.UID
}

func observed(o observation, want ...types.UID) step { return step{observe: &o, wantSync: want} }
func forgot(uid types.UID, want ...types.UID) step   { return step{forget: uid, wantSync: want} }

func TestGraphEvents(t *testing.T) {
	owner := configMap("owner", "o")
	toOwner := ownerRef("ConfigMap", "owner", "o", true)
	dep := configMap("dep", "d", toOwner)
	tests := []struct {
		name  string
		steps []step
	}{{
		name:  "owner seen first: nothing to check",
		steps: []step{observed(owner), observed(dep)},
	}, {
		name:  "dependent seen before its owner is checked",
		steps: []step{observed(dep, "d"), observed(owner)},
	}, {
		name:  "owner deleted: dependent checked",
		steps: []step{observed(owner), observed(dep), forgot("o", "d")},
	}, {
		name: "foreground deletion: owner synced, and again when a dependent goes",
		steps: []step{observed(owner), observed(dep),
			observed(deleting(owner, metav1.FinalizerDeleteDependents), "o"),
			forgot("d", "o")},
	}, {
		name: "orphan deletion: owner synced, and again when a dependent lets go",
		steps: []step{observed(owner), observed(dep),
			observed(deleting(owner, metav1.FinalizerOrphanDependents), "o"),
			observed(configMap("dep", "d"), "o")},
	}, {
		name: "dependent of an owner in a foreground deletion is checked",
		steps: []step{observed(deleting(owner, metav1.FinalizerDeleteDependents), "o"),
			observed(dep, "o", "d")},
	}, {
		name: "background deletion with another finalizer: dependents wait for the removal",
		steps: []step{observed(owner), observed(dep),
			observed(deleting(owner, "example.com/hold")), forgot("o", "d")},
	}, {
		name:  "a dependent being deleted is not checked",
		steps: []step{observed(deleting(dep, "example.com/hold")), forgot("d"), observed(owner)},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGraph()
			for i, s := range tt.steps {
				var got []types.UID
				if s.observe != nil {
					got = g.observe(*s.observe)
				} else {
					got = g.forget(s.forget)
				}
				if !reflect.DeepEqual(got, s.wantSync) {
					t.Fatalf("step %d: sync %v, want %v", i, got, s.wantSync)
				}
			}
		})
	}
}

func TestGraphVirtualOwners(t *testing.T) {
	g := newGraph()
	toOwner := ownerRef("ConfigMap", "owner", "o", true)
	g.observe(configMap("d1", "d1", toOwner))
	g.observe(configMap("d2", "d2", toOwner))

	v, ok := g.view("o")
	if !ok || !v.virtual || len(v.dependents) != 2 {
		t.Fatalf("unseen owner: view %+v, %v; want a virtual node with 2 dependents", v, ok)
	}
	if v.ref.Namespace != "ns" || v.ref.Name != "owner" {
		t.Errorf("virtual owner ref %+v, want ns/owner", v.ref)
	}
	if !v.dependents[0].blocking || v.dependents[0].ref.Name != "d1" {
		t.Errorf("dependent view %+v, want d1 blocking", v.dependents[0])
	}

	// The owner is seen, then deleted: it stays virtual while dependents
	// still refer to it, and goes with the last one.
	g.observe(configMap("owner", "o"))
	if v, _ := g.view("o"); v.virtual {
		t.Fatal("observed owner still virtual")
	}
	g.forget("o")
	if v, ok := g.view("o"); !ok || !v.virtual {
		t.Fatalf("deleted owner with dependents: %+v, %v; want virtual", v, ok)
	}
	g.forget("d1")
	g.observe(configMap("d2", "d2")) // lets go of the owner
	if _, ok := g.view("o"); ok {
		t.Fatal("virtual owner without dependents kept")
	}
	if n := g.size(); n != 1 {
		t.Fatalf("graph size %d, want 1 (d2)", n)
	}
}

func TestGraphOwnerChanges(t *testing.T) {
	g := newGraph()
	a, b := ownerRef("ConfigMap", "a", "a", true), ownerRef("ConfigMap", "b", "b", false)
	g.observe(configMap("a", "a"))
	g.observe(configMap("b", "b"))
	g.observe(configMap("d", "d", a))
	g.observe(configMap("d", "d", b))
	va, _ := g.view("a")
	vb, _ := g.view("b")
	if len(va.dependents) != 0 || len(vb.dependents) != 1 {
		t.Fatalf("after moving d from a to b: a has %d dependents, b %d; want 0 and 1", len(va.dependents), len(vb.dependents))
	}
	vd, _ := g.view("d")
	if len(vd.owners) != 1 || !vd.owners[0].observed || vd.owners[0].actual.Name != "b" {
		t.Fatalf("owners of d: %+v", vd.owners)
	}
	if slices.ContainsFunc(vb.dependents, func(d dependentView) bool { return d.blocking }) {
		t.Error("non-blocking reference reported as blocking")
	}
}
