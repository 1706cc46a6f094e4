// Package job is the Job controller: it runs a Job's pods to completion.
//
// It creates pods from the Job's template up to spec.parallelism until
// spec.completions pods succeed (NonIndexed) or every index in
// [0, completions) has a succeeded pod (Indexed), replaces failed pods with
// an exponential back-off (10 s doubling, capped at 6 min), and fails the
// Job on spec.backoffLimit, spec.backoffLimitPerIndex, the active deadline
// or a podFailurePolicy FailJob rule. Suspending a Job deletes its active
// pods.
//
// Pods are tracked with the batch.kubernetes.io/job-tracking finalizer, as
// upstream does: a finished pod's UID is first recorded in
// status.uncountedTerminatedPods, then its finalizer is removed, then it is
// moved into status.succeeded or status.failed. A pod therefore cannot
// disappear (deleted by a user or the pod garbage collector) before it is
// counted, and a count survives a controller restart.
//
// A Job that meets its success or failure criteria first gets the interim
// SuccessCriteriaMet or FailureTarget condition; once none of its pods is
// still running or terminating it gets the terminal Complete or Failed
// condition.
package job
