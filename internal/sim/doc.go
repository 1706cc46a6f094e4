// Package sim runs hollow nodes: many real node agents (internal/agent)
// over the in-memory fake runtime (internal/runtime/fake), in one process,
// against a real API server. They register, renew leases, report status
// and run bound pods exactly as real agents do, so scale tests exercise
// the real control plane.
//
// All agents share one client (one transport and connection pool, one
// rate limiter with QPS and burst raised for the node count) and start
// staggered so registration does not arrive as one burst.
package sim
