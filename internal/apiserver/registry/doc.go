// Package registry describes every built-in resource the API server serves
// (group, version, kind, scope, subresources) and carries each type's
// strategy: defaulting, the fields create/update may not touch, and
// validation that matches upstream Kubernetes behaviour. It does no I/O.
package registry
