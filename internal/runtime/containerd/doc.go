// Package containerd runs the node's own containerd: it writes a
// configuration under the agent's data directory (state, sockets, CNI
// configuration and snapshots all live there), starts the system
// `containerd` binary as a child process and waits until its CRI service
// answers. The process is owned by the context passed to Start and is
// stopped when that context ends.
package containerd
