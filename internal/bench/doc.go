// Package bench holds Skiff's benchmark scenarios. RunAPI starts a real
// `skiff server` as a child process (so that its memory can be read from
// /proc), drives it with client-go, compares its write rate with raw etcd,
// and returns the figures as a Markdown table.
package bench
