// Package placement is the scheduler's pure core: given a Snapshot of the
// cluster (nodes, the pods bound to them, namespaces and volumes) and one
// pending pod, it filters the nodes, scores the feasible ones and picks one,
// explaining every rejected node with upstream-compatible reason strings.
//
// The package does no I/O. Randomness (tie breaking, the sampling start
// point) is passed in as a *rand.Rand, so a fixed seed gives a fixed answer.
// The scheduler loop builds the Snapshot from its informers, calls Schedule,
// binds, and records the binding with Snapshot.Assume.
//
// The pipeline reads top to bottom in Schedule and newFilters/newScorers:
// each filter is a small function returning the reasons a node is rejected
// (nil if it fits); each scorer returns 0..100 per node and is weighted by
// Config. Preempt finds victims on one node when a pod fits nowhere.
//
// Tests are table-driven per filter and scorer, plus golden scripts in
// testdata/*.txt (see script_test.go for the format; run with -rewrite to
// regenerate the expected output).
package placement
