// Package node assembles a real Skiff node: it starts (or connects to)
// containerd over CRI, imports the node's images, runs the agent against
// the API server, writes the CNI configuration once the node has a pod
// CIDR, and reads the machine's capacity. `skiff agent` and `skiff up`
// both run a node through Run; hollow nodes (internal/sim) use the agent
// over the fake runtime instead.
package node
