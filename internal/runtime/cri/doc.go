// Package cri implements runtime.Runtime over the Kubernetes Container
// Runtime Interface (CRI v1 gRPC), as containerd's CRI plugin serves it.
// It converts Skiff's runtime types to CRI messages at the edge, maps
// gRPC NotFound to runtime.ErrNotFound, and also exposes the streaming
// calls (exec, attach, port-forward) that return a URL of the runtime's
// streaming server.
package cri
