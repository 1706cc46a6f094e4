// Package network sets up a node's pod network. It writes the CNI
// configuration (one bridge, "skiff0", with the node as gateway,
// host-local addresses from the node's pod CIDR, and the portmap plugin
// for hostPorts), masquerades pod traffic that leaves the cluster's pod
// network (nftables table skiff-masq), and routes every other node's pod
// CIDR through that node's InternalIP (host-gw): DesiredRoutes computes
// the routes from the Nodes, RouteSyncer applies them to a RouteTable,
// NetlinkRoutes being the kernel's.
package network
