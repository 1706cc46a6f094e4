// Package node assembles a real Skiff node: it starts (or connects to)
// containerd over CRI, imports the node's images, runs the agent against
// the API server, writes the CNI configuration once the node has a pod
// CIDR, routes other nodes' pod CIDRs through their InternalIPs (host-gw),
// masquerades pod traffic leaving the cluster's pod network, publishes an
// EndpointSlice of the kube-dns Service for its own DNS server, and reads
// the machine's capacity. `skiff agent` and `skiff up`
// both run a node through Run; hollow nodes (internal/sim) use the agent
// over the fake runtime instead.
package node
