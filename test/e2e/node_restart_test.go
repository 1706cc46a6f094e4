package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// testTop polls `kubectl top node` and `kubectl top pod` until the
// metrics API has numbers for the node and the running keeper pod.
func testTop(t *testing.T, n *upNode) {
	nodeLine := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(n.name) + `\s+\d+m\s+\d+%\s+\d+Mi\s+\d+%\s*$`)
	podLine := regexp.MustCompile(`(?m)^keeper\s+\d+m\s+\d+Mi\s*$`)
	containerLine := regexp.MustCompile(`(?m)^keeper\s+keeper\s+\d+m\s+\d+Mi\s*$`)
	var nodeOut, podOut string
	eventually(t, "kubectl top node and pod answer with numbers", 60*time.Second, func() bool {
		nodeOut, _, _ = n.proc.kubectl("", nil, "top", "node")
		podOut, _, _ = n.proc.kubectl("", nil, "top", "pod", "keeper")
		return nodeLine.MatchString(nodeOut) && podLine.MatchString(podOut)
	})
	t.Logf("kubectl top node:\n%s\nkubectl top pod keeper:\n%s", nodeOut, podOut)
	if got := header(nodeOut); strings.Join(got, " ") != "NAME CPU(cores) CPU(%) MEMORY(bytes) MEMORY(%)" {
		t.Errorf("kubectl top node header = %v", got)
	}
	out := n.proc.must(t, "top", "pod", "keeper", "--containers")
	if !containerLine.MatchString(out) {
		t.Errorf("kubectl top pod keeper --containers:\n%s", out)
	}
	all := n.proc.must(t, "top", "pod", "-A")
	wantContains(t, "kubectl top pod -A", all, "NAMESPACE", "keeper")
}

// testAgentRestart stops `skiff up` with SIGTERM and starts it on the same
// data directory: running containers are kept (same container ID,
// restartCount 0), the node heartbeats Ready again, the objects are all
// there, and new pods still run.
func testAgentRestart(t *testing.T, n *upNode) {
	eventually(t, "keeper Running", 60*time.Second, func() bool {
		return n.get("pod", "keeper", "{.status.phase}") == "Running"
	})
	idOf := func(pod string) string { return n.get("pod", pod, "{.status.containerStatuses[0].containerID}") }
	keeperID, keeperUID := idOf("keeper"), n.get("pod", "keeper", "{.metadata.uid}")
	sidecarIDs := n.get("pod", "withsidecar", "{.status.initContainerStatuses[0].containerID} {.status.containerStatuses[0].containerID}")
	n.proc.must(t, "create", "configmap", "survivor", "--from-literal=k=v")
	before := time.Now().Add(-time.Second)

	n.restart(t)

	eventually(t, "node heartbeats Ready after the restart", 60*time.Second, func() bool {
		out := n.get("node", n.name, `{.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}`)
		status, at, _ := strings.Cut(out, " ")
		hb, err := time.Parse(time.RFC3339, at)
		return status == "True" && err == nil && hb.After(before)
	})
	// Give the agent time to have reconciled its pods once.
	eventually(t, "keeper reported Ready by the new agent", 30*time.Second, func() bool {
		return n.get("pod", "keeper", `{.status.conditions[?(@.type=="Ready")].status}`) == "True"
	})
	time.Sleep(3 * time.Second)
	if got := idOf("keeper"); got != keeperID {
		t.Errorf("keeper container after the restart = %s, was %s", got, keeperID)
	}
	if got := n.get("pod", "keeper", "{.metadata.uid}"); got != keeperUID {
		t.Errorf("keeper pod uid after the restart = %s, was %s", got, keeperUID)
	}
	if got := n.get("pod", "keeper", "{.status.containerStatuses[0].restartCount}"); got != "0" {
		t.Errorf("keeper restartCount after the restart = %q, want 0", got)
	}
	if got := n.get("pod", "withsidecar", "{.status.initContainerStatuses[0].containerID} {.status.containerStatuses[0].containerID}"); got != sidecarIDs {
		t.Errorf("withsidecar containers after the restart = %s, were %s", got, sidecarIDs)
	}
	wantContains(t, "exec into keeper after the restart", n.proc.must(t, "exec", "keeper", "--", "echo", "still here"), "still here")
	for _, obj := range [][]string{
		{"configmap", "survivor"}, {"namespace", "statics"}, {"pod", "initorder"}, {"pod", "imported"}, {"pod", "jobsidecar"},
	} {
		if _, errOut, err := n.proc.kubectl("", nil, "get", obj[0], obj[1]); err != nil {
			t.Errorf("kubectl get %s %s after the restart: %v %s", obj[0], obj[1], err, errOut)
		}
	}
	if s := n.podStatus("initorder"); s != "Completed" {
		t.Errorf("initorder STATUS after the restart = %q, want Completed", s)
	}
	n.proc.must(t, "run", "after", "--image=registry.skiff.local/busybox:1.35", "--restart=Never", "--", "echo", "after restart")
	eventually(t, "a new pod runs after the restart", 60*time.Second, func() bool {
		return n.get("pod", "after", "{.status.phase}") == "Succeeded"
	})
	if got := n.proc.must(t, "logs", "after"); got != "after restart\n" {
		t.Errorf("logs of after = %q", got)
	}
}
