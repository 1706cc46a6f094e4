// Package podgc is the pod garbage collector. Every period it deletes:
//   - the oldest terminated (Succeeded or Failed) pods beyond the
//     terminated-pod threshold (12500 by default);
//   - orphaned pods, bound to a node that no longer exists, once the node
//     has been missing for a grace period (checked against the API, not
//     only the cache); they are first marked Failed with a
//     DisruptionTarget condition (reason DeletionByPodGC), as upstream does;
//   - unscheduled pods that are being deleted (no kubelet will finish
//     their deletion).
//
// Deletions are forced (grace period 0): no kubelet will act on them.
package podgc
