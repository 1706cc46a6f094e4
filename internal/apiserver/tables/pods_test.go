package tables

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Container status builders.

func running(name string, ready bool) corev1.ContainerStatus {
	started := true
	return corev1.ContainerStatus{Name: name, Ready: ready, Started: &started,
		State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(name, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(name, reason string, exit, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exit, Signal: signal}}}
}

// restarted sets the restart count and when the last run ended.
func restarted(st corev1.ContainerStatus, n int32, lastEnded time.Duration) corev1.ContainerStatus {
	st.RestartCount = n
	if lastEnded > 0 {
		st.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{FinishedAt: ago(lastEnded)}
	}
	return st
}

// testPod has n containers, the given init containers (names prefixed
// "sidecar" restart always) and statuses.
func testPod(phase corev1.PodPhase, containers int, inits []string, initStatuses, statuses []corev1.ContainerStatus) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: objMeta("p")}
	for i := 0; i < containers; i++ {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: string(rune('a' + i))})
	}
	always := corev1.ContainerRestartPolicyAlways
	for _, name := range inits {
		c := corev1.Container{Name: name}
		if len(name) >= 7 && name[:7] == "sidecar" {
			c.RestartPolicy = &always
		}
		p.Spec.InitContainers = append(p.Spec.InitContainers, c)
	}
	p.Status.Phase = phase
	p.Status.InitContainerStatuses = initStatuses
	p.Status.ContainerStatuses = statuses
	return p
}

func withCondition(p *corev1.Pod, typ corev1.PodConditionType, status corev1.ConditionStatus, reason string) *corev1.Pod {
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: typ, Status: status, Reason: reason})
	return p
}

func deleted(p *corev1.Pod) *corev1.Pod {
	t := ago(time.Second)
	p.DeletionTimestamp = &t
	return p
}

func withReason(p *corev1.Pod, reason string) *corev1.Pod {
	p.Status.Reason = reason
	return p
}

func TestPodStatus(t *testing.T) {
	tr, fa := corev1.ConditionTrue, corev1.ConditionFalse
	cases := []struct {
		name                    string
		pod                     *corev1.Pod
		ready, status, restarts string
	}{
		{"pending, no statuses", testPod(corev1.PodPending, 1, nil, nil, nil), "0/1", "Pending", "0"},
		{"running and ready", testPod(corev1.PodRunning, 2, nil, nil,
			[]corev1.ContainerStatus{running("a", true), running("b", true)}), "2/2", "Running", "0"},
		{"running, one not ready", testPod(corev1.PodRunning, 2, nil, nil,
			[]corev1.ContainerStatus{running("a", true), running("b", false)}), "1/2", "Running", "0"},
		{"container creating", testPod(corev1.PodPending, 1, nil, nil,
			[]corev1.ContainerStatus{waiting("a", "ContainerCreating")}), "0/1", "ContainerCreating", "0"},
		{"crash loop with restarts", testPod(corev1.PodRunning, 1, nil, nil,
			[]corev1.ContainerStatus{restarted(waiting("a", "CrashLoopBackOff"), 3, 20*time.Second)}), "0/1", "CrashLoopBackOff", "3 (20s ago)"},
		{"err image pull", testPod(corev1.PodPending, 1, nil, nil,
			[]corev1.ContainerStatus{waiting("a", "ErrImagePull")}), "0/1", "ErrImagePull", "0"},
		{"image pull backoff", testPod(corev1.PodPending, 1, nil, nil,
			[]corev1.ContainerStatus{waiting("a", "ImagePullBackOff")}), "0/1", "ImagePullBackOff", "0"},
		{"create container config error", testPod(corev1.PodPending, 1, nil, nil,
			[]corev1.ContainerStatus{waiting("a", "CreateContainerConfigError")}), "0/1", "CreateContainerConfigError", "0"},
		{"first container in spec order wins", testPod(corev1.PodPending, 2, nil, nil,
			[]corev1.ContainerStatus{waiting("a", "ErrImagePull"), waiting("b", "ContainerCreating")}), "0/2", "ErrImagePull", "0"},
		{"oom killed", testPod(corev1.PodRunning, 1, nil, nil,
			[]corev1.ContainerStatus{restarted(terminated("a", "OOMKilled", 137, 0), 1, 5*time.Minute)}), "0/1", "OOMKilled", "1 (5m ago)"},
		{"error", testPod(corev1.PodFailed, 1, nil, nil,
			[]corev1.ContainerStatus{terminated("a", "Error", 1, 0)}), "0/1", "Error", "0"},
		{"signal without reason", testPod(corev1.PodFailed, 1, nil, nil,
			[]corev1.ContainerStatus{terminated("a", "", 137, 9)}), "0/1", "Signal:9", "0"},
		{"exit code without reason", testPod(corev1.PodFailed, 1, nil, nil,
			[]corev1.ContainerStatus{terminated("a", "", 2, 0)}), "0/1", "ExitCode:2", "0"},
		{"succeeded shows completed", testPod(corev1.PodSucceeded, 1, nil, nil,
			[]corev1.ContainerStatus{terminated("a", "Completed", 0, 0)}), "0/1", "Completed", "0"},
		{"succeeded without statuses", testPod(corev1.PodSucceeded, 1, nil, nil, nil), "0/1", "Succeeded", "0"},
		{"one completed one running, pod ready", withCondition(testPod(corev1.PodRunning, 2, nil, nil,
			[]corev1.ContainerStatus{terminated("a", "Completed", 0, 0), running("b", true)}), corev1.PodReady, tr, ""),
			"1/2", "Running", "0"},
		{"one completed one running, pod not ready", withCondition(testPod(corev1.PodRunning, 2, nil, nil,
			[]corev1.ContainerStatus{terminated("a", "Completed", 0, 0), running("b", true)}), corev1.PodReady, fa, ""),
			"1/2", "NotReady", "0"},
		{"init pending", testPod(corev1.PodPending, 1, []string{"i1", "i2"},
			[]corev1.ContainerStatus{waiting("i1", "PodInitializing"), waiting("i2", "PodInitializing")},
			[]corev1.ContainerStatus{waiting("a", "PodInitializing")}), "0/1", "Init:0/2", "0"},
		{"init running", testPod(corev1.PodPending, 1, []string{"i1", "i2"},
			[]corev1.ContainerStatus{running("i1", false), waiting("i2", "PodInitializing")}, nil), "0/1", "Init:0/2", "0"},
		{"second init running", testPod(corev1.PodPending, 1, []string{"i1", "i2"},
			[]corev1.ContainerStatus{terminated("i1", "Completed", 0, 0), running("i2", false)}, nil), "0/1", "Init:1/2", "0"},
		{"init error", testPod(corev1.PodPending, 1, []string{"i1"},
			[]corev1.ContainerStatus{terminated("i1", "Error", 1, 0)}, nil), "0/1", "Init:Error", "0"},
		{"init exit code", testPod(corev1.PodPending, 1, []string{"i1"},
			[]corev1.ContainerStatus{terminated("i1", "", 3, 0)}, nil), "0/1", "Init:ExitCode:3", "0"},
		{"init signal", testPod(corev1.PodPending, 1, []string{"i1"},
			[]corev1.ContainerStatus{terminated("i1", "", 143, 15)}, nil), "0/1", "Init:Signal:15", "0"},
		{"init crash loop counts init restarts", testPod(corev1.PodPending, 1, []string{"i1"},
			[]corev1.ContainerStatus{restarted(waiting("i1", "CrashLoopBackOff"), 4, time.Minute)},
			[]corev1.ContainerStatus{restarted(waiting("a", "PodInitializing"), 9, 0)}), "0/1", "Init:CrashLoopBackOff", "4 (60s ago)"},
		{"pod initializing", testPod(corev1.PodPending, 1, []string{"i1"},
			[]corev1.ContainerStatus{terminated("i1", "Completed", 0, 0)},
			[]corev1.ContainerStatus{waiting("a", "PodInitializing")}), "0/1", "PodInitializing", "0"},
		{"initialized pod ignores init restarts", testPod(corev1.PodRunning, 1, []string{"i1"},
			[]corev1.ContainerStatus{restarted(terminated("i1", "Completed", 0, 0), 2, time.Hour)},
			[]corev1.ContainerStatus{running("a", true)}), "1/1", "Running", "0"},
		{"sidecar counted in ready and restarts", testPod(corev1.PodRunning, 1, []string{"sidecar-log"},
			[]corev1.ContainerStatus{restarted(running("sidecar-log", true), 2, 2*time.Minute)},
			[]corev1.ContainerStatus{restarted(running("a", true), 1, 3*time.Minute)}), "2/2", "Running", "3 (2m ago)"},
		{"sidecar started, not ready", testPod(corev1.PodRunning, 1, []string{"sidecar-log"},
			[]corev1.ContainerStatus{running("sidecar-log", false)},
			[]corev1.ContainerStatus{running("a", true)}), "1/2", "Running", "0"},
		{"sidecar not started blocks init", testPod(corev1.PodPending, 1, []string{"sidecar-log", "i2"},
			[]corev1.ContainerStatus{waiting("sidecar-log", "ContainerCreating"), waiting("i2", "PodInitializing")},
			[]corev1.ContainerStatus{waiting("a", "PodInitializing")}), "0/2", "Init:ContainerCreating", "0"},
		{"finished pod with its sidecar stopped is completed", testPod(corev1.PodSucceeded, 1, []string{"sidecar-log"},
			[]corev1.ContainerStatus{terminated("sidecar-log", "Error", 137, 0)},
			[]corev1.ContainerStatus{terminated("a", "Completed", 0, 0)}), "0/2", "Completed", "0"},
		{"terminating", deleted(testPod(corev1.PodRunning, 1, nil, nil,
			[]corev1.ContainerStatus{running("a", true)})), "1/1", "Terminating", "0"},
		{"deleted but succeeded stays completed", deleted(testPod(corev1.PodSucceeded, 1, nil, nil,
			[]corev1.ContainerStatus{terminated("a", "Completed", 0, 0)})), "0/1", "Completed", "0"},
		{"node lost", withReason(testPod(corev1.PodRunning, 1, nil, nil,
			[]corev1.ContainerStatus{running("a", true)}), "NodeLost"), "1/1", "NodeLost", "0"},
		{"node lost and deleted is unknown", deleted(withReason(testPod(corev1.PodRunning, 1, nil, nil,
			[]corev1.ContainerStatus{running("a", true)}), "NodeLost")), "1/1", "Unknown", "0"},
		{"evicted", withReason(testPod(corev1.PodFailed, 1, nil, nil, nil), "Evicted"), "0/1", "Evicted", "0"},
		{"scheduling gated", withCondition(testPod(corev1.PodPending, 1, nil, nil, nil),
			corev1.PodScheduled, fa, "SchedulingGated"), "0/1", "SchedulingGated", "0"},
		{"restarts without termination time", testPod(corev1.PodRunning, 1, nil, nil,
			[]corev1.ContainerStatus{restarted(running("a", true), 2, 0)}), "1/1", "Running", "2"},
		{"restarts summed, latest termination shown", testPod(corev1.PodRunning, 2, nil, nil,
			[]corev1.ContainerStatus{restarted(running("a", true), 1, 3*time.Hour), restarted(running("b", true), 2, 90*time.Second)}),
			"2/2", "Running", "3 (90s ago)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cells := convertOne(t, tc.pod)
			got := []any{cells[1], cells[2], cells[3]}
			if want := []any{tc.ready, tc.status, tc.restarts}; !reflect.DeepEqual(got, want) {
				t.Errorf("READY STATUS RESTARTS = %q, want %q", got, want)
			}
		})
	}
}

func TestPodWideCells(t *testing.T) {
	pod := testPod(corev1.PodRunning, 1, nil, nil, []corev1.ContainerStatus{running("a", true)})
	pod.Spec.NodeName = "node-1"
	pod.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.5"}, {IP: "fd00::5"}}
	pod.Status.NominatedNodeName = "node-2"
	pod.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/a"}, {ConditionType: "example.com/b"}}
	withCondition(pod, "example.com/a", corev1.ConditionTrue, "")
	withCondition(pod, "example.com/b", corev1.ConditionFalse, "")
	runCellCases(t, []cellCase{
		{"all set", pod, []any{"p", "1/1", "Running", "0", "60m", "10.0.0.5", "node-1", "node-2", "1/2"}},
		{"unscheduled", testPod(corev1.PodPending, 1, nil, nil, nil),
			[]any{"p", "0/1", "Pending", "0", "60m", "<none>", "<none>", "<none>", "<none>"}},
	})
}

func TestPodRowConditions(t *testing.T) {
	cases := []struct {
		phase  corev1.PodPhase
		reason string
	}{
		{corev1.PodSucceeded, "Succeeded"},
		{corev1.PodFailed, "Failed"},
		{corev1.PodRunning, ""},
	}
	for _, tc := range cases {
		table, err := Convert(testPod(tc.phase, 1, nil, nil, nil), Options{Now: testNow()})
		if err != nil {
			t.Fatal(err)
		}
		conds := table.Rows[0].Conditions
		if tc.reason == "" {
			if len(conds) != 0 {
				t.Errorf("%s: conditions = %v, want none", tc.phase, conds)
			}
			continue
		}
		if len(conds) != 1 || conds[0].Type != metav1.RowCompleted || conds[0].Status != metav1.ConditionTrue || conds[0].Reason != tc.reason {
			t.Errorf("%s: conditions = %v", tc.phase, conds)
		}
	}
}
