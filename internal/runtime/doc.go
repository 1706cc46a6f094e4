// Package runtime defines the container runtime the node agent drives.
//
// The Runtime interface follows the shape of the Kubernetes Container
// Runtime Interface (CRI): pod sandboxes hold containers, containers are
// created, started, stopped and removed by ID, and the agent learns the
// truth by listing. The types are Skiff's own small Go structs so that the
// agent's pure core does not depend on generated protobuf code; the CRI
// implementation (runtime/cri, over containerd's gRPC API) converts at its
// edge, and runtime/fake implements the interface in memory for tests and
// hollow nodes.
package runtime
