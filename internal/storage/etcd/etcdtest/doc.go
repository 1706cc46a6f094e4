// Package etcdtest starts etcd servers for tests: an embedded member in a
// test's temporary directory, or an external etcd process when the etcd
// binary is installed. Everything is stopped by t.Cleanup.
package etcdtest
