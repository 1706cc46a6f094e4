// Package node is the Node authorizer: it confines an agent, authenticated
// as "system:node:<name>" in "system:nodes", to its own node's objects. An
// agent may read only the secrets, configmaps and persistent volume claims
// that pods bound to its node use, request tokens only for those pods'
// service accounts, write only its own Node, node Lease and the status of
// its own pods, and write only its own DNS EndpointSlice (kube-system/
// kube-dns-<name>). On those resources anything else is denied; other requests
// are left to RBAC (which grants nodes the system:node role).
package node
