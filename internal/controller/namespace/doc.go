// Package namespace is the namespace controller: when a namespace is
// deleted it deletes everything in it, reports what is left in the
// namespace's status conditions, and once the namespace is empty removes
// the "kubernetes" finalizer so the API server can remove the namespace.
//
// The controller is a client of the API like any other: it watches
// namespaces through a shared informer, finds namespaced resource types
// through discovery and deletes content through the metadata client, so
// custom resources are emptied the same way as built-in ones.
package namespace
