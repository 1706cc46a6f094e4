// Package bench holds Skiff's benchmark scenarios. RunAPI starts a real
// `skiff server` as a child process (so that its memory can be read from
// /proc), drives it with client-go, compares its write rate with raw etcd,
// and returns the figures as a Markdown table.
//
// RunScheduler starts `skiff server` (scheduler off) and `skiff sim`
// (hollow nodes) as child processes, runs the scheduler in the bench
// process and times scenarios (basic, backlog, pod anti-affinity, topology
// spread): pods bound per second, create→bound percentiles from one watch,
// per-second bind counts, peak memory and CPU per pod of each process.
//
// RunControllers starts `skiff server` (scheduler and controllers on) and
// `skiff sim`, and times a Deployment becoming available, its rolling
// update and a burst of Jobs, with the server's CPU time and peak memory.
// RunAgent runs the agent in the bench process on a real containerd (over
// CRI) against a `skiff server` child and times pods to Running. RunProxy
// checks for root and the tools, then runs proxy.Bench.
package bench
