// Package daemonset runs the DaemonSet controller: one pod per eligible
// node (nodeSelector, required node affinity, taints and tolerations),
// created with a required node affinity on the node's name so that the
// scheduler places it, removed from nodes that stop being eligible, rolled
// out with RollingUpdate (maxUnavailable, maxSurge) or OnDelete, with
// ControllerRevision history and upstream's status counts.
//
// Which node should run a pod is decided by pure functions (nodes.go), and
// what to create or delete on each node by a pure plan (plan.go); the sync
// loop around them reads the informers and does the writes.
package daemonset
