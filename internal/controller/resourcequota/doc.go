// Package resourcequota computes ResourceQuota status: for each resource
// named in spec.hard, how much the namespace uses now (status.used). The
// accounting itself is in package quota, shared with the API server's
// ResourceQuota admission.
package resourcequota
