// Package deployment is the Deployment controller: it rolls a
// Deployment's pod template out through ReplicaSets.
//
// Each distinct template gets a ReplicaSet named after the hash of the
// template (the pod-template-hash label, added to the ReplicaSet's
// selector and pods so sibling ReplicaSets never share pods). The newest
// template's ReplicaSet is scaled up and the older ones down, either all
// at once (Recreate: old pods gone first) or within maxSurge and
// maxUnavailable (RollingUpdate). Scaling a Deployment mid-rollout spreads
// the change over its ReplicaSets in proportion to their sizes.
//
// ReplicaSets carry the revision annotations kubectl reads (revision,
// revision-history, desired-replicas, max-replicas); old ones beyond
// revisionHistoryLimit are deleted once they are empty. The Deployment's
// status counts the pods of its ReplicaSets and carries the Available and
// Progressing conditions with upstream's reasons, which `kubectl rollout
// status` follows, including ProgressDeadlineExceeded after
// progressDeadlineSeconds without progress. A paused Deployment still
// scales but does not roll out. Rollback is what `kubectl rollout undo`
// does (copy an old ReplicaSet's template back); the deprecated
// deployment.kubernetes.io rollback annotation is honoured too.
package deployment
