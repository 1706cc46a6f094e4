package agent

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// describe renders actions compactly: "Kind[:container/attempt|:id]".
func describe(acts []Action) string {
	var out []string
	for _, a := range acts {
		switch a.Kind {
		case StartContainer:
			out = append(out, fmt.Sprintf("%s:%s/%d", a.Kind, a.Container, a.Attempt))
		case RunSandbox:
			out = append(out, fmt.Sprintf("%s/%d", a.Kind, a.Attempt))
		case KillContainer:
			out = append(out, fmt.Sprintf("%s:%s(%s)", a.Kind, a.ID, a.Grace))
		case DeletePod:
			out = append(out, string(a.Kind))
		default:
			out = append(out, fmt.Sprintf("%s:%s", a.Kind, a.ID))
		}
	}
	return strings.Join(out, " ")
}

func TestPlan(t *testing.T) {
	const uid = "uid-p"
	tests := []struct {
		name     string
		pods     []*corev1.Pod
		world    *world
		now      time.Time
		want     string
		wantWake time.Time
	}{
		{name: "new pod gets a sandbox", pods: []*corev1.Pod{testPod()}, world: newWorld(), want: "RunSandbox/0"},
		{name: "ready sandbox gets containers", pods: []*corev1.Pod{testPod(containers("a", "b"))},
			world: newWorld().sandbox(uid, "sb1", 0, true), want: "StartContainer:a/0 StartContainer:b/0"},
		{name: "running pod needs nothing", pods: []*corev1.Pod{testPod()},
			world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c1", "a", 0, at(-5)), want: ""},
		{name: "dead sandbox is replaced", pods: []*corev1.Pod{testPod()},
			world: newWorld().sandbox(uid, "sb1", 0, false).exited("sb1", "c1", "a", 0, 137, at(-5), at(-1)), want: "RunSandbox/1"},
		{name: "init containers run first, one at a time", pods: []*corev1.Pod{testPod(initContainers("i1", "i2"))},
			world: newWorld().sandbox(uid, "sb1", 0, true), want: "StartContainer:i1/0"},
		{name: "running init container blocks", pods: []*corev1.Pod{testPod(initContainers("i1", "i2"))},
			world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c1", "i1", 0, at(-1)), want: ""},
		{name: "after init succeeds the next starts", pods: []*corev1.Pod{testPod(initContainers("i1", "i2"))},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "i1", 0, 0, at(-2), at(-1)), want: "StartContainer:i2/0"},
		{name: "all init done starts app containers", pods: []*corev1.Pod{testPod(initContainers("i1"))},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "i1", 0, 0, at(-2), at(-1)), want: "StartContainer:a/0"},
		{name: "failed init under Never stops the pod", pods: []*corev1.Pod{testPod(initContainers("i1"), policy(corev1.RestartPolicyNever))},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "i1", 0, 1, at(-2), at(-1)), want: "StopSandbox:sb1"},
		{name: "first crash restarts at once", pods: []*corev1.Pod{testPod()},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 0, 1, at(-2), at(-1)), want: "StartContainer:a/1"},
		{name: "second crash waits 10s", pods: []*corev1.Pod{testPod()},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 1, 1, at(-2), at(-1)), want: "", wantWake: at(9)},
		{name: "back-off over restarts", pods: []*corev1.Pod{testPod()},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 1, 1, at(-12), at(-11)), want: "StartContainer:a/2"},
		{name: "back-off doubles", pods: []*corev1.Pod{testPod()},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 3, 1, at(-2), at(-1)), want: "", wantWake: at(39)},
		{name: "back-off is capped at 5 min", pods: []*corev1.Pod{testPod()},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 12, 1, at(-2), at(-1)), want: "", wantWake: at(299)},
		{name: "long run resets back-off", pods: []*corev1.Pod{testPod()},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 5, 1, at(-700), at(-1)), want: "StartContainer:a/6"},
		{name: "OnFailure restarts failures", pods: []*corev1.Pod{testPod(policy(corev1.RestartPolicyOnFailure), containers("a", "b"))},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 0, 0, at(-2), at(-1)).exited("sb1", "c2", "b", 0, 2, at(-2), at(-1)),
			want:  "StartContainer:b/1"},
		{name: "Never does not restart; done pod stops sandbox", pods: []*corev1.Pod{testPod(policy(corev1.RestartPolicyNever))},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 0, 1, at(-2), at(-1)), want: "StopSandbox:sb1"},
		{name: "succeeded pod with stopped sandbox is left alone", pods: []*corev1.Pod{testPod(phase(corev1.PodSucceeded))},
			world: newWorld().sandbox(uid, "sb1", 0, false).exited("sb1", "c1", "a", 0, 0, at(-2), at(-1)), want: ""},
		{name: "old attempts are removed, two kept", pods: []*corev1.Pod{testPod()},
			world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c3", "a", 2, at(-1)).
				exited("sb1", "c2", "a", 1, 1, at(-3), at(-2)).exited("sb1", "c1", "a", 0, 1, at(-5), at(-4)),
			want: "RemoveContainer:c1"},
		{name: "deleting pod: containers are killed with its grace", pods: []*corev1.Pod{testPod(deleting(7))},
			world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c1", "a", 0, at(-5)), want: "KillContainer:c1(7s)"},
		{name: "deleting pod: stopped containers, sandbox stopped and pod deleted", pods: []*corev1.Pod{testPod(deleting(7))},
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 0, 143, at(-5), at(-1)), want: "StopSandbox:sb1 DeletePod"},
		{name: "deleting pod with nothing in the runtime is deleted", pods: []*corev1.Pod{testPod(deleting(30))}, world: newWorld(), want: "DeletePod"},
		{name: "orphan: running containers killed first", world: newWorld().sandbox("gone", "sb9", 0, true).running("sb9", "c9", "a", 0, at(-5)),
			want: "KillContainer:c9(2s)"},
		{name: "orphan: then sandbox stopped and removed", world: newWorld().sandbox("gone", "sb9", 0, true).exited("sb9", "c9", "a", 0, 137, at(-5), at(-1)),
			want: "StopSandbox:sb9 RemoveSandbox:sb9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.now
			if now.IsZero() {
				now = t0
			}
			acts, wake := Plan(tt.pods, tt.world.state(), now, testOpts)
			if got := describe(acts); got != tt.want {
				t.Errorf("actions:\n got %q\nwant %q", got, tt.want)
			}
			if !wake.Equal(tt.wantWake) {
				t.Errorf("wake: got %v, want %v", wake, tt.wantWake)
			}
		})
	}
}
