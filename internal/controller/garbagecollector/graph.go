package garbagecollector

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// objectRef identifies one object of the cluster.
type objectRef struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	UID        types.UID
}

// observation is what the collector keeps of one object seen by a monitor.
type observation struct {
	ref    objectRef
	owners []metav1.OwnerReference
	// deleting is true when the object has a deletionTimestamp.
	deleting bool
	// finalizers are the object's metadata.finalizers.
	finalizers []string
}

// node is one object of the graph: observed, or virtual when it is only
// known as the owner other objects refer to.
type node struct {
	ref objectRef
	// virtual marks an owner that no monitor has shown (yet), or one that
	// was deleted while dependents still refer to it.
	virtual bool
	// owners are the object's ownerReferences as last observed.
	owners []metav1.OwnerReference
	// dependents are the nodes whose ownerReferences name this node's UID.
	dependents map[types.UID]*node
	// deleting, deletingDependents and orphaning describe a deletion in
	// progress: deletionTimestamp set, with the foregroundDeletion or
	// orphan finalizer respectively.
	deleting, deletingDependents, orphaning bool
}

// graph links owners and dependents by UID. It is safe for concurrent use:
// monitors write it from their informers' goroutines, workers read
// snapshots of it.
type graph struct {
	mu    sync.Mutex
	nodes map[types.UID]*node
}

func newGraph() *graph {
	return &graph{nodes: map[types.UID]*node{}}
}

// observe records an added or updated object and returns the UIDs the
// collector must sync because of the change.
func (g *graph) observe(o observation) []types.UID {
	g.mu.Lock()
	defer g.mu.Unlock()
	uid := o.ref.UID
	n := g.nodes[uid]
	if n == nil {
		n = &node{dependents: map[types.UID]*node{}}
		g.nodes[uid] = n
	}
	n.ref, n.virtual = o.ref, false
	n.deleting = o.deleting
	n.deletingDependents = o.deleting && slices.Contains(o.finalizers, metav1.FinalizerDeleteDependents)
	n.orphaning = o.deleting && slices.Contains(o.finalizers, metav1.FinalizerOrphanDependents)

	var sync uidSet
	oldOwners := n.owners
	n.owners = slices.Clone(o.owners)
	if !slices.EqualFunc(oldOwners, n.owners, ownerRefEqual) {
		// A dependent that changed its references may no longer block an
		// owner waiting for it, or may need orphaning.
		for _, ref := range oldOwners {
			g.notifyOwner(ref.UID, &sync)
			g.unlink(n, ref.UID)
		}
		for _, ref := range n.owners {
			g.link(n, ref, o.ref.Namespace)
			g.notifyOwner(ref.UID, &sync)
		}
	}
	if n.deletingDependents || n.orphaning {
		sync.add(uid)
	}
	if !n.deleting && needsCheck(o.ref, g.ownerViews(n)) {
		sync.add(uid)
	}
	return sync.list
}

// forget records that an object was deleted and returns the UIDs to sync:
// its dependents (their owner is gone) and the owners waiting for it.
func (g *graph) forget(uid types.UID) []types.UID {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	if n == nil || n.virtual {
		return nil
	}
	var sync uidSet
	for _, ref := range n.owners {
		g.notifyOwner(ref.UID, &sync)
		g.unlink(n, ref.UID)
	}
	if len(n.dependents) == 0 {
		delete(g.nodes, uid)
		return sync.list
	}
	// Dependents still refer to the UID: keep it as a virtual owner until
	// they are collected or let go of it.
	n.virtual, n.owners = true, nil
	n.deleting, n.deletingDependents, n.orphaning = false, false, false
	for dep := range n.dependents {
		sync.add(dep)
	}
	return sync.list
}

// link records dependent n as depending on ref, creating a virtual owner
// node when the owner has not been seen. A virtual owner of a namespaced
// dependent is assumed to be in the dependent's namespace until observed.
func (g *graph) link(n *node, ref metav1.OwnerReference, namespace string) {
	owner := g.nodes[ref.UID]
	if owner == nil {
		owner = &node{
			ref:        objectRef{APIVersion: ref.APIVersion, Kind: ref.Kind, Namespace: namespace, Name: ref.Name, UID: ref.UID},
			virtual:    true,
			dependents: map[types.UID]*node{},
		}
		g.nodes[ref.UID] = owner
	}
	owner.dependents[n.ref.UID] = n
}

// unlink removes dependent n from owner uid, dropping a virtual owner that
// no longer has dependents.
func (g *graph) unlink(n *node, uid types.UID) {
	owner := g.nodes[uid]
	if owner == nil {
		return
	}
	delete(owner.dependents, n.ref.UID)
	if owner.virtual && len(owner.dependents) == 0 {
		delete(g.nodes, uid)
	}
}

// notifyOwner adds owner uid to sync when it waits on its dependents.
func (g *graph) notifyOwner(uid types.UID, sync *uidSet) {
	if owner := g.nodes[uid]; owner != nil && !owner.virtual && (owner.deletingDependents || owner.orphaning) {
		sync.add(uid)
	}
}

// ownerViews describes the owners of n as the graph knows them.
func (g *graph) ownerViews(n *node) []ownerView {
	views := make([]ownerView, len(n.owners))
	for i, ref := range n.owners {
		views[i] = ownerView{ref: ref}
		if owner := g.nodes[ref.UID]; owner != nil && !owner.virtual {
			views[i].observed = true
			views[i].actual = owner.ref
			views[i].deletingDependents = owner.deletingDependents
		}
	}
	return views
}

// nodeView is a copy of one node and of what the sync needs of its
// neighbours, taken under the graph's lock.
type nodeView struct {
	ref                                     objectRef
	virtual                                 bool
	deleting, deletingDependents, orphaning bool
	owners                                  []ownerView
	dependents                              []dependentView
}

// view returns a snapshot of node uid.
func (g *graph) view(uid types.UID) (nodeView, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	if n == nil {
		return nodeView{}, false
	}
	v := nodeView{
		ref:                n.ref,
		virtual:            n.virtual,
		deleting:           n.deleting,
		deletingDependents: n.deletingDependents,
		orphaning:          n.orphaning,
		owners:             g.ownerViews(n),
	}
	for _, dep := range n.dependents {
		v.dependents = append(v.dependents, dependentView{
			ref:                dep.ref,
			deleting:           dep.deleting,
			deletingDependents: dep.deletingDependents,
			blocking:           blocksOwner(dep.owners, uid),
		})
	}
	slices.SortFunc(v.dependents, func(a, b dependentView) int { return compareRefs(a.ref, b.ref) })
	return v, true
}

// size is the number of nodes, virtual ones included.
func (g *graph) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.nodes)
}

// blocksOwner reports whether refs name owner with blockOwnerDeletion set.
func blocksOwner(refs []metav1.OwnerReference, owner types.UID) bool {
	for _, ref := range refs {
		if ref.UID == owner && ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion {
			return true
		}
	}
	return false
}

func ownerRefEqual(a, b metav1.OwnerReference) bool {
	return a.UID == b.UID && a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name &&
		boolValue(a.BlockOwnerDeletion) == boolValue(b.BlockOwnerDeletion) && boolValue(a.Controller) == boolValue(b.Controller)
}

func boolValue(b *bool) bool { return b != nil && *b }

func compareRefs(a, b objectRef) int {
	return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name), strings.Compare(string(a.UID), string(b.UID)))
}

// uidSet is an insertion-ordered set of UIDs.
type uidSet struct {
	seen map[types.UID]bool
	list []types.UID
}

func (s *uidSet) add(uid types.UID) {
	if s.seen == nil {
		s.seen = map[types.UID]bool{}
	}
	if !s.seen[uid] {
		s.seen[uid] = true
		s.list = append(s.list, uid)
	}
}
