// Package rules is the pure core of Skiff's service proxy: it turns
// Services and EndpointSlices into a model of one nftables table and
// computes precise differences between two such models.
//
// Nothing here does I/O. Compute takes an Input (the node's name and
// addresses, the pod CIDR, the API objects) and returns a RuleSet: chains,
// sets and verdict maps, each keyed by a stable name derived from the
// Service port or endpoint it belongs to. Diff compares two RuleSets and
// returns Changes that touch only the chains, sets and map elements that
// differ, so that a change to one endpoint rewrites only the chains of its
// Service. Both render as `nft -f` script text; an applier may instead walk
// the typed model (Chain, Rule, Expr, Set, Element) and issue netlink calls.
//
// The table layout (family inet, table skiff-proxy):
//
//	nat-prerouting, nat-output  → services
//	services                    ip daddr . l4proto . dport vmap @service-ips
//	                            (node addresses) l4proto . dport vmap @service-nodeports
//	service-<svcport>           mark off-cluster clients for masquerade, then
//	                            dnat to numgen random mod N map { i : ip . port }
//	local-<svcport>             the same over this node's endpoints (traffic policy Local)
//	external-<svcport>          NodePort, externalIPs, load-balancer IPs: masquerade and pick a policy chain
//	filter-input/forward/output → endpoints-check: reject (or drop) Services without endpoints
//	nat-postrouting             → masquerading of marked packets; hairpin: a DNATed
//	                            packet whose ip saddr . ip daddr is in @hairpin
//	                            (every endpoint address twice) is masqueraded
//
// There is no chain per endpoint: a batch that adds a rule with a verdict
// makes the kernel re-validate the jump graph of the whole table, so the
// graph is kept to about one chain per Service port. The exception is a
// port with ClientIP affinity, whose service chain sends clients found in
// an endpoint's affinity set to that endpoint's chain
// (endpoint-<svcport>__<ip>/<port>: update the set, dnat); nft cannot yet
// record a numgen choice in a map, which one chain would need.
//
// Input.EndpointChains selects the older layout the iptables translation
// needs: every endpoint has a chain (hairpin mark, affinity update, dnat),
// the service chain picks one with numgen random vmap, and marks go
// through the mark-for-masquerade chain.
//
// Computer is the incremental form of Compute for the proxy's sync loop:
// it keeps the rules of Services whose objects did not change (same
// pointers, or same UID and resourceVersion) and patches the previous
// RuleSet, so that Compute and Diff after one EndpointSlice change cost
// little more than that Service's rules.
//
// Only IPv4 is programmed; IPv6 addresses and slices are skipped.
package rules
