package agent

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// summary renders the parts of a status the tests check.
func summary(st corev1.PodStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s ip=%s", st.Phase, st.PodIP)
	for _, c := range st.Conditions {
		fmt.Fprintf(&b, " %s=%s", c.Type, c.Status)
		if c.Reason != "" {
			fmt.Fprintf(&b, "(%s)", c.Reason)
		}
	}
	for _, list := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		for _, c := range list {
			fmt.Fprintf(&b, " | %s:", c.Name)
			switch s := c.State; {
			case s.Running != nil:
				b.WriteString("running")
			case s.Waiting != nil:
				b.WriteString("waiting/" + s.Waiting.Reason)
			case s.Terminated != nil:
				fmt.Fprintf(&b, "terminated/%s/%d", s.Terminated.Reason, s.Terminated.ExitCode)
			}
			if t := c.LastTerminationState.Terminated; t != nil {
				fmt.Fprintf(&b, " last=%d", t.ExitCode)
			}
			fmt.Fprintf(&b, " restarts=%d ready=%t started=%t", c.RestartCount, c.Ready, c.Started != nil && *c.Started)
		}
	}
	return b.String()
}

func TestPodStatus(t *testing.T) {
	const uid = "uid-p"
	tests := []struct {
		name  string
		pod   *corev1.Pod
		world *world
		errs  map[string]StartError
		want  string
	}{
		{name: "nothing yet", pod: testPod(), world: newWorld(),
			want: "Pending ip= PodScheduled=True PodReadyToStartContainers=False Initialized=True ContainersReady=False(ContainersNotReady) Ready=False(ContainersNotReady) | a:waiting/ContainerCreating restarts=0 ready=false started=false"},
		{name: "running", pod: testPod(), world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c1", "a", 0, at(-3)),
			want: "Running ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=True Initialized=True ContainersReady=True Ready=True | a:running restarts=0 ready=true started=true"},
		{name: "one of two running", pod: testPod(containers("a", "b")), world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c1", "a", 0, at(-3)),
			want: "Pending ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=True Initialized=True ContainersReady=False(ContainersNotReady) Ready=False(ContainersNotReady) | a:running restarts=0 ready=true started=true | b:waiting/ContainerCreating restarts=0 ready=false started=false"},
		{name: "initializing", pod: testPod(initContainers("i1")), world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c1", "i1", 0, at(-1)),
			want: "Pending ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=True Initialized=False(ContainersNotInitialized) ContainersReady=False(ContainersNotReady) Ready=False(ContainersNotReady) | i1:running restarts=0 ready=true started=true | a:waiting/PodInitializing restarts=0 ready=false started=false"},
		{name: "completed under Never", pod: testPod(policy(corev1.RestartPolicyNever)),
			world: newWorld().sandbox(uid, "sb1", 0, false).exited("sb1", "c1", "a", 0, 0, at(-3), at(-1)),
			want:  "Succeeded ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=False Initialized=True ContainersReady=False(PodCompleted) Ready=False(PodCompleted) | a:terminated/Completed/0 restarts=0 ready=false started=false"},
		{name: "failed under Never", pod: testPod(policy(corev1.RestartPolicyNever)),
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 0, 2, at(-3), at(-1)),
			want:  "Failed ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=True Initialized=True ContainersReady=False(PodCompleted) Ready=False(PodCompleted) | a:terminated/Error/2 restarts=0 ready=false started=false"},
		{name: "crash loop back-off", pod: testPod(),
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c2", "a", 2, 1, at(-3), at(-1)).exited("sb1", "c1", "a", 1, 1, at(-30), at(-29)),
			want:  "Running ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=True Initialized=True ContainersReady=False(ContainersNotReady) Ready=False(ContainersNotReady) | a:waiting/CrashLoopBackOff last=1 restarts=2 ready=false started=false"},
		{name: "restarted and running shows last state", pod: testPod(),
			world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c2", "a", 1, at(-1)).exited("sb1", "c1", "a", 0, 3, at(-9), at(-2)),
			want:  "Running ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=True Initialized=True ContainersReady=True Ready=True | a:running last=3 restarts=1 ready=true started=true"},
		{name: "OnFailure: success of all is Succeeded", pod: testPod(policy(corev1.RestartPolicyOnFailure)),
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c1", "a", 0, 0, at(-3), at(-1)),
			want:  "Succeeded ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=True Initialized=True ContainersReady=False(PodCompleted) Ready=False(PodCompleted) | a:terminated/Completed/0 restarts=0 ready=false started=false"},
		{name: "image pull error", pod: testPod(), world: newWorld().sandbox(uid, "sb1", 0, true),
			errs: map[string]StartError{"a": {Reason: ReasonErrImagePull, Message: "denied"}},
			want: "Pending ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=True Initialized=True ContainersReady=False(ContainersNotReady) Ready=False(ContainersNotReady) | a:waiting/ErrImagePull restarts=0 ready=false started=false"},
		{name: "a sidecar stopped after the app finished keeps the pod initialised",
			pod:   testPod(policy(corev1.RestartPolicyNever), initContainers("s"), sidecarInit),
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c2", "a", 0, 0, at(-5), at(-3)).exited("sb1", "c1", "s", 0, 137, at(-9), at(-2)),
			want:  "Succeeded ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=True Initialized=True ContainersReady=False(PodCompleted) Ready=False(PodCompleted) | s:terminated/Error/137 restarts=0 ready=false started=false | a:terminated/Completed/0 restarts=0 ready=false started=false"},
		{name: "terminal phase is kept", pod: testPod(phase(corev1.PodFailed)),
			world: newWorld().sandbox(uid, "sb1", 0, false).exited("sb1", "c1", "a", 0, 0, at(-3), at(-1)),
			want:  "Failed ip=10.244.0.5 PodScheduled=True PodReadyToStartContainers=False Initialized=True ContainersReady=False(PodCompleted) Ready=False(PodCompleted) | a:terminated/Completed/0 restarts=0 ready=false started=false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := PodStatus(tt.pod, tt.world.state().Pod(uid), tt.errs, nil, t0, testOpts)
			if got := summary(st); got != tt.want {
				t.Errorf("status:\n got %s\nwant %s", got, tt.want)
			}
			if st.HostIP != "10.0.0.1" || st.StartTime == nil || st.QOSClass != corev1.PodQOSBestEffort {
				t.Errorf("hostIP %q startTime %v qos %q", st.HostIP, st.StartTime, st.QOSClass)
			}
		})
	}
}

// sidecarInit makes the first init container a sidecar.
func sidecarInit(p *corev1.Pod) {
	always := corev1.ContainerRestartPolicyAlways
	p.Spec.InitContainers[0].RestartPolicy = &always
}

// TestPodStatusStable: recomputing from the written status later changes
// nothing, so the agent does not write again.
func TestPodStatusStable(t *testing.T) {
	pod := testPod()
	ps := newWorld().sandbox("uid-p", "sb1", 0, true).running("sb1", "c1", "a", 0, at(-3).Add(123*time.Millisecond)).state().Pod("uid-p")
	first := PodStatus(pod, ps, nil, nil, t0.Add(456*time.Millisecond), testOpts)
	pod.Status = first
	again := PodStatus(pod, ps, nil, nil, t0.Add(30*time.Second), testOpts)
	if !apiequality.Semantic.DeepEqual(first, again) {
		t.Errorf("status changed without a cause:\n%+v\n%+v", first, again)
	}
	want := metav1.NewTime(t0)
	for _, c := range first.Conditions {
		if !c.LastTransitionTime.Equal(&want) {
			t.Errorf("%s transition time %v, want %v", c.Type, c.LastTransitionTime, want)
		}
	}
}

func TestPodStatusProbes(t *testing.T) {
	const uid = "uid-p"
	probed := func(p *corev1.Pod) {
		p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{}
		p.Spec.Containers[0].StartupProbe = &corev1.Probe{}
	}
	w := newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c1", "a", 0, at(-3))
	tests := []struct {
		name   string
		health map[string]ContainerHealth
		want   string
	}{
		{"no worker yet", nil, "ready=false started=false"},
		{"starting", map[string]ContainerHealth{"c1": {}}, "ready=false started=false"},
		{"started, not ready", map[string]ContainerHealth{"c1": {Started: true}}, "ready=false started=true"},
		{"ready", map[string]ContainerHealth{"c1": {Started: true, Ready: true}}, "ready=true started=true"},
	}
	for _, tt := range tests {
		st := PodStatus(testPod(probed), w.state().Pod(uid), nil, tt.health, t0, testOpts)
		if got := summary(st); !strings.HasSuffix(got, tt.want) {
			t.Errorf("%s: %s", tt.name, got)
		}
		ready := tt.want == "ready=true started=true"
		if c := st.Conditions[findCondition(st.Conditions, corev1.PodReady)]; (c.Status == corev1.ConditionTrue) != ready {
			t.Errorf("%s: Ready condition %s", tt.name, c.Status)
		}
	}
}
