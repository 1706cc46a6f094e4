// Package probe holds the container probes' state machine and the
// handlers that run probes and lifecycle hooks.
//
// State is pure: it is fed probe results with the time they were taken
// and says what the probe's result is (after the success and failure
// thresholds) and when it next runs. The handlers (Exec, HTTPGet,
// TCPSocket, GRPC) do the I/O; the agent's probe workers join the two.
package probe
