// Package statefulset runs the StatefulSet controller: pods with stable
// names <set>-<ordinal> (from spec.ordinals.start), hostnames under the
// governing Service, and PersistentVolumeClaims <claim>-<set>-<ordinal>
// from volumeClaimTemplates, managed OrderedReady (one at a time, each
// waiting for the previous to be Running and Ready, scaling down in
// reverse) or in Parallel; updated with RollingUpdate (partition,
// maxUnavailable) or OnDelete through ControllerRevisions; with the PVC
// retention policy expressed as owner references.
//
// What one sync does is decided by a pure function over the pods by
// ordinal (plan.go); the sync loop reads the informers and does the
// writes (sync.go, claims.go).
package statefulset
