package e2e

import (
	"strings"
	"testing"
	"time"
)

// testInitContainers runs two init containers in order (the second reads
// what the first wrote to an emptyDir) before the app container, and
// watches the STATUS column go Init:0/2 → Init:1/2 → Running → Completed.
func testInitContainers(t *testing.T, n *upNode) {
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: initorder}
spec:
  restartPolicy: Never
  volumes: [{name: work, emptyDir: {}}]
  initContainers:
  - name: first
    image: registry.skiff.local/busybox:1.35
    command: ["sh", "-c", "sleep 3; echo one > /work/log"]
    volumeMounts: [{name: work, mountPath: /work}]
  - name: second
    image: registry.skiff.local/busybox:1.35
    command: ["sh", "-c", "sleep 3; cat /work/log; echo two >> /work/log"]
    volumeMounts: [{name: work, mountPath: /work}]
  containers:
  - name: app
    image: registry.skiff.local/busybox:1.35
    command: ["sh", "-c", "cat /work/log; echo three; sleep 3"]
    volumeMounts: [{name: work, mountPath: /work}]
`
	n.dumpOnFailure(t, "default", "initorder")
	n.proc.mustIn(t, manifest, "apply", "-f", "-")
	var seen []string
	eventually(t, "initorder Completed", 90*time.Second, func() bool {
		s := n.podStatus("initorder")
		if s != "" && (len(seen) == 0 || seen[len(seen)-1] != s) {
			seen = append(seen, s)
		}
		return s == "Completed" || s == "Error"
	})
	t.Logf("initorder went through %v", seen)
	// Running lasts 3 s and a loaded machine may poll past it; the logs
	// below prove the app ran after both init containers.
	if !inOrder(seen, "Init:0/2", "Init:1/2", "Completed") {
		t.Errorf("initorder STATUS went through %v, want Init:0/2, Init:1/2, (Running,) Completed in that order", seen)
	}
	if got := n.proc.must(t, "logs", "initorder", "-c", "second"); got != "one\n" {
		t.Errorf("logs of init container second = %q, want %q", got, "one\n")
	}
	if got := n.proc.must(t, "logs", "initorder"); got != "one\ntwo\nthree\n" {
		t.Errorf("logs of app = %q, want %q", got, "one\ntwo\nthree\n")
	}
	if got := n.get("pod", "initorder", `{.status.conditions[?(@.type=="Initialized")].status}`); got != "True" {
		t.Errorf("Initialized condition = %q, want True", got)
	}
	reasons := n.get("pod", "initorder", "{.status.initContainerStatuses[*].state.terminated.reason}")
	if reasons != "Completed Completed" {
		t.Errorf("init container terminated reasons = %q, want %q", reasons, "Completed Completed")
	}
}

// inOrder says whether want appears in seen as a subsequence.
func inOrder(seen []string, want ...string) bool {
	i := 0
	for _, s := range seen {
		if i < len(want) && s == want[i] {
			i++
		}
	}
	return i == len(want)
}

// testFailingInit: an init container that fails under restartPolicy
// Never fails the pod, Init:Error, and the app never starts.
func testFailingInit(t *testing.T, n *upNode) {
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: initfail}
spec:
  restartPolicy: Never
  initContainers:
  - name: broken
    image: registry.skiff.local/busybox:1.35
    command: ["sh", "-c", "echo giving up; exit 4"]
  containers:
  - name: app
    image: registry.skiff.local/busybox:1.35
    command: ["sh", "-c", "echo app ran"]
`
	n.dumpOnFailure(t, "default", "initfail")
	n.proc.mustIn(t, manifest, "apply", "-f", "-")
	eventually(t, "initfail Failed", 60*time.Second, func() bool {
		return n.get("pod", "initfail", "{.status.phase}") == "Failed"
	})
	if s := n.podStatus("initfail"); s != "Init:Error" {
		t.Errorf("kubectl get pod initfail STATUS = %q, want Init:Error", s)
	}
	if got := n.get("pod", "initfail", "{.status.initContainerStatuses[0].state.terminated.exitCode}"); got != "4" {
		t.Errorf("init container exit code = %q, want 4", got)
	}
	if got := n.get("pod", "initfail", "{.status.containerStatuses[0].state.running}"); got != "" {
		t.Errorf("the app container ran after a failed init container: %s", got)
	}
	wantContains(t, "logs of the failed init container", n.proc.must(t, "logs", "initfail", "-c", "broken"), "giving up")
}

// testSidecar: a restartable init container keeps running next to the
// app (READY 2/2); in a pod that completes, the sidecar is stopped once
// the app has exited and the pod succeeds.
func testSidecar(t *testing.T, n *upNode) {
	manifest := `apiVersion: v1
kind: Pod
metadata: {name: withsidecar}
spec:
  volumes: [{name: shared, emptyDir: {}}]
  initContainers:
  - name: ticker
    image: registry.skiff.local/busybox:1.35
    restartPolicy: Always
    command: ["sh", "-c", "while true; do date +%s > /shared/tick; sleep 1; done"]
    volumeMounts: [{name: shared, mountPath: /shared}]
  containers:
  - name: app
    image: registry.skiff.local/busybox:1.35
    command: ["sh", "-c", "sleep 3600"]
    volumeMounts: [{name: shared, mountPath: /shared}]
---
apiVersion: v1
kind: Pod
metadata: {name: jobsidecar}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 2
  initContainers:
  - name: helper
    image: registry.skiff.local/busybox:1.35
    restartPolicy: Always
    command: ["sleep", "3600"]
  containers:
  - name: main
    image: registry.skiff.local/busybox:1.35
    command: ["sh", "-c", "echo main done"]
`
	n.dumpOnFailure(t, "default", "withsidecar", "jobsidecar")
	n.proc.mustIn(t, manifest, "apply", "-f", "-")
	eventually(t, "withsidecar 2/2 Running", 60*time.Second, func() bool {
		out, _, _ := n.proc.kubectl("", nil, "get", "pod", "withsidecar", "--no-headers")
		f := strings.Fields(out)
		return len(f) > 2 && f[1] == "2/2" && f[2] == "Running"
	})
	first := strings.TrimSpace(n.proc.must(t, "exec", "withsidecar", "-c", "app", "--", "cat", "/shared/tick"))
	eventually(t, "the sidecar keeps writing", 10*time.Second, func() bool {
		out, _, _ := n.proc.kubectl("", nil, "exec", "withsidecar", "-c", "app", "--", "cat", "/shared/tick")
		return strings.TrimSpace(out) != first && strings.TrimSpace(out) != ""
	})
	if got := n.get("pod", "withsidecar", "{.status.initContainerStatuses[0].started}"); got != "true" {
		t.Errorf("sidecar started = %q, want true", got)
	}
	eventually(t, "jobsidecar Succeeded once main exits", 60*time.Second, func() bool {
		return n.get("pod", "jobsidecar", "{.status.phase}") == "Succeeded"
	})
	if got := n.get("pod", "jobsidecar", "{.status.initContainerStatuses[0].state.running}"); got != "" {
		t.Errorf("the sidecar of a succeeded pod still runs: %s", got)
	}
	// The sidecar was stopped by the agent (exit 137 here): kubectl shows
	// the pod Completed, not Init:Error.
	if s := n.podStatus("jobsidecar"); s != "Completed" {
		t.Errorf("kubectl get pod jobsidecar STATUS = %q, want Completed", s)
	}
}
