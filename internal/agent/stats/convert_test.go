package stats

import (
	"encoding/json"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

func TestPodStats(t *testing.T) {
	sb := func(id, ns, name string, state runtime.SandboxState) *runtime.PodSandbox {
		return &runtime.PodSandbox{ID: id, Metadata: runtime.PodSandboxMetadata{Name: name, Namespace: ns, UID: "uid-" + name}, State: state, CreatedAt: t0}
	}
	ctr := func(id, sandbox, name string, state runtime.ContainerState) *runtime.Container {
		return &runtime.Container{ID: id, PodSandboxID: sandbox, Metadata: runtime.ContainerMetadata{Name: name}, State: state, CreatedAt: t0}
	}
	st := func(id string, nanoCores, total, ws uint64) *runtime.ContainerStats {
		return &runtime.ContainerStats{ID: id, Timestamp: t0.Add(time.Minute), CPUUsageNanoCores: nanoCores, CPUUsageCoreNanoSeconds: total,
			MemoryWorkingSetBytes: ws, MemoryUsageBytes: ws + 1, MemoryRSSBytes: ws / 2}
	}
	in := podsInput{
		Sandboxes: []*runtime.PodSandbox{sb("s1", "b", "web", runtime.SandboxReady), sb("s2", "a", "db", runtime.SandboxReady),
			sb("s3", "a", "gone", runtime.SandboxNotReady), sb("s4", "a", "empty", runtime.SandboxReady)},
		Containers: []*runtime.Container{
			ctr("c1", "s1", "app", runtime.ContainerRunning), ctr("c2", "s1", "sidecar", runtime.ContainerRunning),
			ctr("c3", "s1", "init", runtime.ContainerExited), ctr("c4", "s2", "db", runtime.ContainerRunning),
			ctr("c5", "s3", "old", runtime.ContainerRunning), ctr("c6", "s2", "nostats", runtime.ContainerRunning),
		},
		Stats: []*runtime.ContainerStats{st("c1", 100e6, 10e9, 1000), st("c2", 0, 5e9, 500), st("c3", 0, 1, 1), st("c4", 0, 3e9, 70), st("c5", 1, 1, 1)},
		Now:   t0.Add(2 * time.Minute),
	}
	// The tracker knows a rate for c2 only.
	rates := map[string]uint64{"c2": 50e6}
	var asked []string
	rate := func(id string, s cpuSample) (uint64, bool) {
		asked = append(asked, id)
		r, ok := rates[id]
		return r, ok
	}
	got := podStats(in, rate)

	type podWant struct {
		ns, name   string
		containers []string
		nanoCores  *uint64 // nil: no pod rate
		total, ws  uint64
	}
	want := []podWant{
		{ns: "a", name: "db", containers: []string{"db"}, nanoCores: nil, total: 3e9, ws: 70},
		{ns: "a", name: "empty", containers: nil},
		{ns: "b", name: "web", containers: []string{"app", "sidecar"}, nanoCores: ptr(150e6), total: 15e9, ws: 1500},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d pods, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		p := got[i]
		if p.PodRef.Namespace != w.ns || p.PodRef.Name != w.name || p.PodRef.UID != "uid-"+w.name {
			t.Errorf("pod %d is %+v, want %s/%s", i, p.PodRef, w.ns, w.name)
			continue
		}
		var names []string
		for _, c := range p.Containers {
			names = append(names, c.Name)
		}
		if len(names) != len(w.containers) || (len(names) > 0 && names[0] != w.containers[0]) || (len(names) > 1 && names[1] != w.containers[1]) {
			t.Errorf("%s containers %v, want %v", w.name, names, w.containers)
		}
		if w.containers == nil {
			if p.CPU != nil || p.Memory != nil {
				t.Errorf("%s: pod without containers has usage", w.name)
			}
			continue
		}
		if (p.CPU.UsageNanoCores == nil) != (w.nanoCores == nil) || (w.nanoCores != nil && *p.CPU.UsageNanoCores != *w.nanoCores) {
			t.Errorf("%s: pod rate %v, want %v", w.name, p.CPU.UsageNanoCores, w.nanoCores)
		}
		if *p.CPU.UsageCoreNanoSeconds != w.total || *p.Memory.WorkingSetBytes != w.ws {
			t.Errorf("%s: cpu total %d ws %d, want %d %d", w.name, *p.CPU.UsageCoreNanoSeconds, *p.Memory.WorkingSetBytes, w.total, w.ws)
		}
		if !p.CPU.Time.Equal(&metaT) {
			t.Errorf("%s: time %v, want %v", w.name, p.CPU.Time, metaT)
		}
	}
	// The runtime's own rate wins; the tracker still sees every running container.
	if r := got[2].Containers[0].CPU.UsageNanoCores; r == nil || *r != 100e6 {
		t.Errorf("app rate %v, want the runtime's 100e6", r)
	}
	if len(asked) != 3 {
		t.Errorf("tracker asked about %v, want c1, c2, c4", asked)
	}
}

var metaT = metaTime(t0.Add(time.Minute))

func TestSummaryJSON(t *testing.T) {
	s := Summary{Node: NodeStats{NodeName: "n1", StartTime: metaTime(t0), CPU: &CPUStats{Time: metaTime(t0), UsageNanoCores: ptr(5)},
		Memory: &MemoryStats{Time: metaTime(t0), WorkingSetBytes: ptr(7)}},
		Pods: []PodStats{{PodRef: PodReference{Name: "p", Namespace: "ns", UID: "u"}, Containers: []ContainerStats{{Name: "c"}}}}}
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	node := generic["node"].(map[string]any)
	if node["nodeName"] != "n1" || node["cpu"].(map[string]any)["usageNanoCores"] != 5.0 || node["memory"].(map[string]any)["workingSetBytes"] != 7.0 {
		t.Errorf("node JSON %s", data)
	}
	pod := generic["pods"].([]any)[0].(map[string]any)
	if pod["podRef"].(map[string]any)["uid"] != "u" || pod["containers"].([]any)[0].(map[string]any)["name"] != "c" {
		t.Errorf("pod JSON %s", data)
	}
}

func metaTime(t time.Time) metav1.Time { return metav1.NewTime(t) }
