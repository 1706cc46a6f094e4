// Package audit records what the API server was asked and what it
// answered, as upstream's audit log does: a Policy (the audit.k8s.io/v1
// file format, parsed by our own types) picks a level per request, the
// first matching rule winning; Events are JSON lines written to a file by
// one goroutine behind a bounded buffer, so requests never wait for the
// disk (when the buffer is full events are dropped and counted); the file
// rotates by size, keeping a bounded number and age of backups.
//
// Other parts of the server attach annotations to a request's event
// through AddAnnotation on the request context.
package audit
