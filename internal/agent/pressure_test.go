package agent

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
)

func TestParseEvictionHard(t *testing.T) {
	got, err := ParseEvictionHard("memory.available<100Mi, nodefs.available<10%,pid.available<5.5%")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Signal != SignalMemoryAvailable || got[0].Quantity.String() != "100Mi" ||
		got[1].Percent != 10 || got[2].Signal != SignalPIDAvailable || got[2].Percent != 5.5 {
		t.Errorf("parsed %+v", got)
	}
	if got, err := ParseEvictionHard(""); err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, bad := range []string{"memory.available", "cpu.available<1", "nodefs.available<120%", "memory.available<lots"} {
		if _, err := ParseEvictionHard(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestBreaches(t *testing.T) {
	mi := int64(1 << 20)
	tests := []struct {
		name  string
		stats NodeStats
		want  string
	}{
		{"fine", NodeStats{Memory: Amount{500 * mi, 1024 * mi}, NodeFS: Amount{50, 100}, ImageFS: Amount{50, 100}}, ""},
		{"memory", NodeStats{Memory: Amount{99 * mi, 1024 * mi}, NodeFS: Amount{50, 100}, ImageFS: Amount{50, 100}}, "memory.available<104857600"},
		{"memory at the threshold", NodeStats{Memory: Amount{100 * mi, 1024 * mi}}, ""},
		{"nodefs", NodeStats{Memory: Amount{500 * mi, 1024 * mi}, NodeFS: Amount{9, 100}, ImageFS: Amount{9, 100}}, "nodefs.available<10 imagefs.available<15"},
		{"imagefs only", NodeStats{NodeFS: Amount{12, 100}, ImageFS: Amount{12, 100}}, "imagefs.available<15"},
		{"unmeasured", NodeStats{}, ""},
	}
	for _, tt := range tests {
		var got []string
		for _, b := range breaches(DefaultEvictionHard(), tt.stats) {
			got = append(got, string(b.Signal)+"<"+resource.NewQuantity(b.limit, resource.DecimalSI).String())
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: %v, want %q", tt.name, got, tt.want)
		}
	}
	pid := []Threshold{{Signal: SignalPIDAvailable, Percent: 10}}
	if b := breaches(pid, NodeStats{PIDs: Amount{Available: 50, Capacity: 1000}}); len(b) != 1 || conditionOf(b[0].Signal) != corev1.NodePIDPressure {
		t.Errorf("pid breaches %+v", b)
	}
}

func TestPressureConditions(t *testing.T) {
	seen := map[corev1.NodeConditionType]time.Time{corev1.NodeMemoryPressure: at(0), corev1.NodeDiskPressure: at(-400)}
	got := pressureConditions(seen, at(100), 5*time.Minute)
	if !got[corev1.NodeMemoryPressure] || got[corev1.NodeDiskPressure] || got[corev1.NodePIDPressure] {
		t.Errorf("at 100 s: %v", got)
	}
	if got := pressureConditions(seen, at(300), 5*time.Minute); got[corev1.NodeMemoryPressure] {
		t.Errorf("memory pressure lasts past the transition period: %v", got)
	}
}

func TestRankForEviction(t *testing.T) {
	mi := int64(1 << 20)
	pod := func(name string, prio int32, request, limit string) *corev1.Pod {
		p := testPod(func(p *corev1.Pod) {
			p.Name, p.UID, p.Status.QOSClass = name, types.UID(name), ""
			p.Spec.Priority = &prio
			r := &p.Spec.Containers[0].Resources
			if request != "" {
				r.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(request), corev1.ResourceCPU: resource.MustParse("100m")}
			}
			if limit != "" {
				r.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(limit), corev1.ResourceCPU: resource.MustParse("100m")}
			}
		})
		return p
	}
	pods := []*corev1.Pod{
		pod("guaranteed", 0, "100Mi", "100Mi"),
		pod("burstable-under", 0, "200Mi", ""),
		pod("burstable-over", 0, "50Mi", ""),
		pod("besteffort", 0, "", ""),
		pod("besteffort-important", 1000, "", ""),
		pod("burstable-way-over", 0, "10Mi", ""),
	}
	usage := map[types.UID]PodUsage{
		"guaranteed": {Memory: 90 * mi}, "burstable-under": {Memory: 100 * mi}, "burstable-over": {Memory: 80 * mi},
		"besteffort": {Memory: 5 * mi}, "besteffort-important": {Memory: 500 * mi}, "burstable-way-over": {Memory: 300 * mi},
	}
	var names []string
	for _, p := range rankForEviction(pods, corev1.ResourceMemory, usage) {
		names = append(names, p.Name)
	}
	// Among pods within their requests, the one closest to them goes first.
	want := "burstable-way-over burstable-over besteffort besteffort-important guaranteed burstable-under"
	if strings.Join(names, " ") != want {
		t.Errorf("with usage: %v\n want %s", names, want)
	}
	// Without usage (the host source knows none), BestEffort goes first,
	// then by priority, then QoS.
	names = nil
	for _, p := range rankForEviction(pods, corev1.ResourceMemory, nil) {
		names = append(names, p.Name)
	}
	want = "besteffort besteffort-important burstable-over burstable-under burstable-way-over guaranteed"
	if strings.Join(names, " ") != want {
		t.Errorf("without usage: %v\n want %s", names, want)
	}
}

func TestEvictable(t *testing.T) {
	crit := int32(systemCriticalPriority)
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"running", testPod(phase(corev1.PodRunning)), true},
		{"finished", testPod(phase(corev1.PodSucceeded)), false},
		{"deleting", testPod(deleting(30)), false},
		{"critical", testPod(func(p *corev1.Pod) { p.Spec.Priority = &crit }), false},
		{"static", testPod(func(p *corev1.Pod) { p.Annotations = map[string]string{AnnotationConfigSource: SourceFile} }), false},
		{"mirror", testPod(func(p *corev1.Pod) { p.Annotations = map[string]string{AnnotationConfigMirror: "x"} }), false},
	}
	for _, tt := range tests {
		if got := evictable(tt.pod); got != tt.want {
			t.Errorf("%s: %v", tt.name, got)
		}
	}
}

func TestEvictionMessageAndStatus(t *testing.T) {
	p := testPod(phase(corev1.PodRunning))
	b := breach{Threshold: Threshold{Signal: SignalMemoryAvailable}, limit: 100 << 20, available: 50 << 20}
	msg := evictionMessage(b, p, PodUsage{Memory: 200 << 20})
	want := "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. Container a was using 200Mi, request is 0, has larger consumption of memory. "
	if msg != want {
		t.Errorf("message %q\n want %q", msg, want)
	}
	disk := breach{Threshold: Threshold{Signal: SignalNodeFSAvailable}, limit: 10 << 30, available: 1 << 30}
	if msg := evictionMessage(disk, p, PodUsage{}); msg != "The node was low on resource: ephemeral-storage. Threshold quantity: 10Gi, available: 1Gi. " {
		t.Errorf("disk message %q", msg)
	}
	f := withEviction(p, msg, t0)
	if f.Status.Phase != corev1.PodFailed || f.Status.Reason != ReasonEvicted || f.Status.Message != msg || p.Status.Phase != corev1.PodRunning {
		t.Errorf("evicted status %+v (original %s)", f.Status, p.Status.Phase)
	}
	if i := findCondition(f.Status.Conditions, corev1.DisruptionTarget); i < 0 || f.Status.Conditions[i].Reason != ReasonTerminationByKubelet {
		t.Errorf("conditions %+v", f.Status.Conditions)
	}
	st := PodStatus(f, newWorld().sandbox("uid-p", "sb", 0, true).exited("sb", "c1", "a", 0, 137, at(0), at(1)).state().Pod("uid-p"), nil, nil, at(2), testOpts)
	if st.Phase != corev1.PodFailed || st.Reason != ReasonEvicted {
		t.Errorf("status after the kill: %s %s", st.Phase, st.Reason)
	}
}

func TestHostStats(t *testing.T) {
	proc, cg := t.TempDir(), t.TempDir()
	write := func(path, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(proc, "meminfo"), "MemTotal:        1048576 kB\nMemFree:   1000 kB\nMemAvailable:     524288 kB\n")
	write(filepath.Join(proc, "sys/kernel/pid_max"), "32768\n")
	write(filepath.Join(proc, "loadavg"), "0.10 0.20 0.30 2/768 1234\n")
	h := HostStats{DataDir: t.TempDir(), ProcRoot: proc, CgroupRoot: cg}
	s, err := h.NodeStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Memory != (Amount{Available: 512 << 20, Capacity: 1 << 30}) || s.PIDs != (Amount{Available: 32768 - 768, Capacity: 32768}) {
		t.Errorf("memory %+v pids %+v", s.Memory, s.PIDs)
	}
	if s.NodeFS.Capacity <= 0 || s.NodeFS.Available <= 0 || s.ImageFS != s.NodeFS {
		t.Errorf("filesystems %+v %+v", s.NodeFS, s.ImageFS)
	}
	// With the root memory cgroup: capacity less the working set.
	write(filepath.Join(cg, "memory/memory.usage_in_bytes"), "805306368\n")
	write(filepath.Join(cg, "memory/memory.stat"), "cache 1\ntotal_inactive_file 268435456\n")
	if s, err = h.NodeStats(context.Background()); err != nil || s.Memory.Available != 512<<20 {
		t.Errorf("cgroup memory %+v %v", s.Memory, err)
	}
	write(filepath.Join(cg, "memory/memory.stat"), "total_inactive_file 0\n")
	if s, _ = h.NodeStats(context.Background()); s.Memory.Available != 256<<20 {
		t.Errorf("cgroup memory without inactive file %+v", s.Memory)
	}
}

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	if p50, p99 := percentile(s, 50), percentile(s, 99); p50 != 50*time.Millisecond || p99 != 99*time.Millisecond {
		t.Errorf("p50 %s p99 %s", p50, p99)
	}
	if p := percentile(s[:3], 99); p != 100*time.Millisecond {
		t.Errorf("p99 of 3: %s", p)
	}
	if percentile(nil, 50) != 0 {
		t.Error("empty")
	}
}
