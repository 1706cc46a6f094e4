// Package envvars computes a container's environment the way the kubelet
// does: literal values, values from ConfigMaps, Secrets, the pod's own
// fields (the downward API) and its resources, envFrom sources with
// prefixes, the Service link variables, and $(VAR) expansion in values,
// command and args.
//
// Everything here is pure. The caller first asks Needs which ConfigMaps
// and Secrets a container refers to, fetches them, and passes them to
// Resolve in an Inputs value; missing objects are nil entries. Field and
// resource lookups (FieldValue, ResourceValue) are shared with the
// downwardAPI volume.
package envvars
