// Package ttlafterfinished is the TTL-after-finished controller: it
// deletes a Job spec.ttlSecondsAfterFinished seconds after the Job
// finished (its Complete or Failed condition), with background
// propagation so the garbage collector removes its pods.
//
// The controller waits on its queue until a Job is due, and checks the Job
// against the API (not only the cache) just before deleting it, so that a
// TTL changed meanwhile is honoured.
package ttlafterfinished
