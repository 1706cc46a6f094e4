package fake

import (
	"context"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/skiffkube/skiff/internal/runtime"
)

func TestBehaviourOf(t *testing.T) {
	tests := []struct {
		name    string
		command []string
		args    []string
		ann     map[string]string
		want    behaviour
	}{
		{name: "no command runs forever", want: behaviour{run: forever}},
		{name: "server binary runs forever", command: []string{"/app/server"}, want: behaviour{run: forever}},
		{name: "sh exit code", command: []string{"sh", "-c", "exit 3"}, want: behaviour{exitCode: 3}},
		{name: "sleep then exit", command: []string{"/bin/sh", "-c"}, args: []string{"echo hi; sleep 2; exit 4"}, want: behaviour{run: 2 * time.Second, exitCode: 4}},
		{name: "sleep binary", command: []string{"sleep", "5"}, want: behaviour{run: 5 * time.Second}},
		{name: "sleep infinity", command: []string{"sleep", "infinity"}, want: behaviour{run: forever}},
		{name: "loop", command: []string{"sh", "-c", "while true; do sleep 1; done"}, want: behaviour{run: forever}},
		{name: "false", command: []string{"false"}, want: behaviour{exitCode: 1}},
		{name: "annotations win", command: []string{"sleep", "5"}, ann: map[string]string{AnnotationExitCode: "7", AnnotationRunSeconds: "1.5"},
			want: behaviour{run: 1500 * time.Millisecond, exitCode: 7}},
		{name: "per-container annotation wins", ann: map[string]string{AnnotationExitCode: "7", AnnotationExitCode + ".c": "0", AnnotationStopSeconds: "3"},
			want: behaviour{exitCode: 0, stop: 3 * time.Second}},
		{name: "run seconds alone exit 0", ann: map[string]string{AnnotationRunSeconds: "10"}, want: behaviour{run: 10 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: "c"}, Command: tt.command, Args: tt.args}
			if got := behaviourOf(cfg, tt.ann); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakePassiveClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := New(Config{Clock: clk})
	sbCfg := &runtime.PodSandboxConfig{Metadata: runtime.PodSandboxMetadata{Name: "p", Namespace: "ns", UID: "u"},
		Annotations: map[string]string{AnnotationExitCode + ".job": "3", AnnotationRunSeconds + ".job": "2", AnnotationStopSeconds: "5"}}
	sb, err := r.RunPodSandbox(ctx, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := r.PodSandboxStatus(ctx, sb)
	if st.IP != "10.244.0.2" || st.State != runtime.SandboxReady {
		t.Fatalf("sandbox: %+v", st)
	}
	start := func(name string) string {
		id, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: name}}, sbCfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	job, srv := start("job"), start("srv")
	if next := r.NextChange(); !next.Equal(clk.Now().Add(2 * time.Second)) {
		t.Errorf("next change %v", next)
	}
	clk.SetTime(clk.Now().Add(2 * time.Second))
	js, _ := r.ContainerStatus(ctx, job)
	if js.State != runtime.ContainerExited || js.ExitCode != 3 || js.Reason != "Error" {
		t.Errorf("job: %+v", js)
	}
	// srv takes 5 s to stop but the timeout is 1 s: killed.
	if err := r.StopContainer(ctx, srv, time.Second); err != nil {
		t.Fatal(err)
	}
	if s, _ := r.ContainerStatus(ctx, srv); s.State != runtime.ContainerRunning {
		t.Errorf("srv stopped at once: %+v", s)
	}
	clk.SetTime(clk.Now().Add(time.Second))
	if s, _ := r.ContainerStatus(ctx, srv); s.State != runtime.ContainerExited || s.ExitCode != 137 {
		t.Errorf("srv after timeout: %+v", s)
	}
	if err := r.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if cs, _ := r.ListContainers(ctx); len(cs) != 0 {
		t.Errorf("containers left: %d", len(cs))
	}
	if _, err := r.PullImage(ctx, "x.invalid/y:1"); err == nil {
		t.Error("pull of an invalid image succeeded")
	}
}
