// Package server wires a Skiff control plane together: certificates,
// etcd (embedded or external), the API server and its HTTPS listener, and
// the bootstrap loops that keep system objects in place. Components reach
// the API over HTTPS with client-go, as a remote process would.
package server
