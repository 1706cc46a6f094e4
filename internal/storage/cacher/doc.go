// Package cacher is the watch cache: it keeps every object of one resource
// type in memory, fed by a single storage.Store watch, and serves lists and
// watches from there so that many clients cost one store watch.
//
// A Cacher lists the store's prefix, then watches it from the list revision.
// Each store event is decoded once into an event kept in a bounded history
// (to resume watches from a resourceVersion) and dispatched to every watcher
// whose key prefix matches; each watcher filters by its label and field
// selectors in its own goroutine. A watcher that does not keep up is
// terminated (its result channel is closed) instead of blocking the others;
// the client then resumes from the last resourceVersion it saw.
//
// Reads follow the Kubernetes resourceVersion semantics: consistent reads
// ("" resourceVersion) wait until the cache has caught up with the store's
// current revision, asking the store for progress notifications so that no
// write is needed; exact and paginated reads go to the store. When the
// store watch fails (for example because its revision was compacted), the
// Cacher lists again and terminates every watcher, as the upstream watch
// cache does.
package cacher
