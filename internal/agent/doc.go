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
//
// Static pods (static*.go) are read from Config.ManifestDir and
// Config.ManifestURL by a polling goroutine; they run whether or not the
// API server answers (the loop never waits for registration or the pod
// informer for them, and leaves the runtime's API pods alone until the
// informer has synced), and each shows in the API as a mirror pod that
// the agent recreates when deleted and to which it writes the status.
//
// Image pulls follow the pull policy and back off after failures
// (imagepull.go); exited containers report their termination message
// (termination.go). With a Config.Stats source the agent reports the
// memory, disk and PID pressure conditions and evicts one pod at a time
// in upstream's order while a hard threshold is crossed (pressure.go is
// the pure part, eviction.go the loop's, stats.go measures the host).
// Bench measures the agent over any runtime.Runtime (bench.go).
package agent
