// Package agent is Skiff's node agent: the kubelet of a Skiff node.
//
// The core is pure: Plan compares the pods bound to the node with what the
// runtime reports (a RuntimeState) at a given time and returns the actions
// that move one towards the other, and PodStatus computes the status a pod
// should show. Neither does I/O; both are table-tested with a fixed clock.
//
// Agent is the thin loop around them: it registers the Node, renews its
// Lease, reports node status when it changes, watches the pods bound to the
// node, runs Plan's actions against a runtime.Runtime, writes pod status
// when it changes and finishes graceful deletions. One Agent holds one
// informer and one loop goroutine, so hollow nodes (internal/sim) are this
// same agent over the fake runtime, thousands to a process.
//
// Starting a container resolves its environment (package envvars), sets
// up the pod's volumes under Config.DataDir (package volume) and converts
// resources, security contexts, hostPorts, DNS policy and log paths
// (spec.go, pure). Probes run on one goroutine per probed container
// (prober.go) around the pure state machine of package probe; lifecycle
// hooks and stops run in the background (hooks.go), and Events are
// written by a writer that holds a goroutine only while events wait
// (events.go). A pod without probes, hooks or volumes costs none of it.
package agent
