// Package quota is the pure accounting of ResourceQuotas: which pods a
// quota's scopes select and what each object charges. The resource quota
// controller computes status.used with it; the API server's ResourceQuota
// admission charges new objects with the same code. It does no I/O.
//
// (Moved from internal/controller/resourcequota so that the API server
// does not import a controller package, as docs/architecture.md's import
// rules want.)
package quota
