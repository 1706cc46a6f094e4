// Package etcd implements storage.Store on etcd v3, and starts an embedded
// single-member etcd server for Skiff's default (one machine) setup.
//
// The Store maps the contract onto etcd directly: the store revision is the
// etcd revision, Create and Update are transactions comparing the key's
// CreateRevision or ModRevision, and Watch is an etcd watch with PrevKV.
package etcd
