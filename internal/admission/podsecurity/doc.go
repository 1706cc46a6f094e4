// Package podsecurity evaluates pods against the Pod Security Standards
// (the baseline and restricted levels, by policy version) and reads the
// namespace labels that choose a level for enforce, audit and warn.
//
// It is pure: it takes a pod's metadata and spec and returns the controls
// the pod violates, with reasons and details worded as upstream words
// them, so that clients and scripts see the same messages. The API server
// turns the results into refusals, warnings and audit annotations.
package podsecurity
