// Package multinode is Skiff's multi-node test harness: on one machine it
// builds a small network of test hosts (network namespaces joined by veth
// pairs to a bridge in a "switch" namespace, 192.168.77.0/24, the root
// namespace being 192.168.77.1), runs one `skiff server` in the root
// namespace and one `skiff agent` inside each host namespace (nsenter
// --net, so the agents keep the machine's mounts and cgroups), each with
// its own data directory, containerd, node IP and name, joined with a
// token. Everything is torn down at the end, also on failure: processes,
// pod sandboxes, containerd, mounts, namespaces, links, files.
//
// The tests run only when SKIFF_MULTINODE=1, as root, with containerd,
// runc, the CNI plugins, iproute2, nsenter and kubectl installed; else
// they skip at once with the reason (`make e2e-multinode` sets the
// variable). SKIFF_BINARY names a prebuilt skiff; otherwise the harness
// builds one.
package multinode
