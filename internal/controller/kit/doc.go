// Package kit holds the plumbing every Skiff controller shares: the worker
// loop over a keyed workqueue, create/delete expectations, pod creation
// from a template with an owner reference, adoption and release of pods by
// selector, pod state helpers (active, ready, available, deletion rank) and
// the event recorder.
//
// Controllers (internal/controller/<name>) keep their reconcile logic to
// themselves; only machinery that two or more of them need lives here.
package kit
