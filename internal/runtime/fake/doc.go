// Package fake is an in-memory runtime.Runtime for tests and hollow nodes.
//
// Nothing runs: a container's state is computed from the clock when it is
// read, from a behaviour fixed when the container is created. The behaviour
// comes from the pod (whose annotations reach the runtime as the sandbox's
// annotations) and from the container's command:
//
//   - annotation skiff.io/fake-exit-code: exit with that code after
//     skiff.io/fake-run-seconds (default 0);
//   - annotation skiff.io/fake-run-seconds alone: exit 0 after that long;
//   - both may be given per container with a ".<container name>" suffix,
//     which wins over the pod-wide value;
//   - annotation skiff.io/fake-stop-seconds: how long the container takes
//     to stop after SIGTERM (default 0), capped by the stop timeout;
//   - otherwise the command decides: `sh -c "sleep 2; exit 3"` runs two
//     seconds and exits 3, `sleep 5` exits 0 after five seconds, `true`
//     and `false` exit at once, loops, `sleep infinity` and `tail -f` run
//     forever, and anything else (including no command) runs forever.
//
// Images whose name contains ".invalid/" fail to pull. There are no
// goroutines and no timers, so thousands of runtimes fit in one process.
package fake
