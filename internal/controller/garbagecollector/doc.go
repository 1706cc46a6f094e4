// Package garbagecollector is the garbage collector: it deletes objects
// whose owners are gone and carries out the foreground and orphan
// cascading deletions the API server starts.
//
// The collector watches the metadata of every resource type that supports
// list, watch and delete (found through discovery, looked up again
// periodically so new custom resources are covered) and keeps a graph of
// objects keyed by UID, linking owners to dependents through
// metadata.ownerReferences. Owners that are referenced but not seen are
// kept as virtual nodes.
//
// One rate-limited queue of UIDs drives a level-based sync:
//
//   - an object whose owners may be gone is checked against the API
//     (a live GET and a UID comparison for each owner): when no owner
//     remains it is deleted; when some remain, the references to the
//     absent ones are removed;
//   - an owner being deleted with the foregroundDeletion finalizer has its
//     dependents deleted, and loses the finalizer once no dependent that
//     blocks owner deletion is left;
//   - an owner being deleted with the orphan finalizer has its reference
//     removed from every dependent, then loses the finalizer.
//
// The decisions are pure functions (decide.go) over the states the sync
// gathers, so they are tested as tables.
package garbagecollector
