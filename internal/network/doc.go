// Package network writes the node's CNI configuration: one bridge
// ("skiff0") with the node as gateway and masquerading for traffic that
// leaves the pod CIDR, host-local addresses from the node's pod CIDR, and
// the portmap plugin for hostPorts. containerd's CRI plugin reads the file
// and runs the plugins (it sets up the loopback interface itself).
package network
