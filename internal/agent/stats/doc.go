// Package stats measures a node and its pods for the agent's
// /stats/summary endpoint, in the shape of upstream's kubelet Summary API
// (node and per-pod CPU, memory and filesystem usage).
//
// A Collector reads containers' usage from the container runtime and the
// node's from /proc and the root cgroup (v1). CPU rates come from the
// runtime when it computes them, else from two samples of cumulative CPU
// time at least MinWindow apart: the Collector keeps the previous sample
// of each container and of the node, and Run samples periodically so
// that a rate is ready when a client asks.
package stats
