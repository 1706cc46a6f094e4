// Package storage defines the Store contract: a key-value store over bytes
// and revisions, the shape every backend (etcd today) implements and the
// apiserver builds on. It imports nothing else of Skiff.
package storage
