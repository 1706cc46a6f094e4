// Package replicaset is the ReplicaSet controller, and the
// ReplicationController controller that shares its logic: it keeps the
// number of active pods matching an owner's selector at spec.replicas.
//
// It creates missing pods from the template in batches that grow 1, 2, 4,
// ... (so a create that keeps failing, e.g. on quota, is tried once and not
// a thousand times), remembers what it issued in expectations so a sync
// during watch lag does not create or delete twice, adopts matching orphans
// and releases pods that no longer match, deletes the least valuable pods
// first on scale-down, and writes the status counts (replicas,
// fullyLabeledReplicas, readyReplicas, availableReplicas after
// minReadySeconds, terminatingReplicas, observedGeneration) and the
// ReplicaFailure condition.
//
// A ReplicationController (core/v1, map selector) is viewed as an
// apps/v1 ReplicaSet: the controller converts it on read and converts the
// status back on write, so one sync serves both kinds.
package replicaset
