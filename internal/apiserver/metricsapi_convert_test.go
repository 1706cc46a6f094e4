package apiserver

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// decodeSummary reads a summary as an agent would send it.
func decodeSummary(t *testing.T, js string) *summary {
	t.Helper()
	var s summary
	if err := json.Unmarshal([]byte(js), &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func TestNodeMetricsConversion(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"a": "b"}}}
	tests := []struct {
		name    string
		summary string
		cpu     string
		memory  string
		ok      bool
	}{
		{name: "complete", summary: `{"node":{"cpu":{"time":"2026-01-01T00:00:20Z","usageNanoCores":1500000000},"memory":{"time":"2026-01-01T00:00:20Z","workingSetBytes":536870912}}}`,
			cpu: "1500m", memory: "512Mi", ok: true},
		{name: "tiny rate keeps nanocores", summary: `{"node":{"cpu":{"usageNanoCores":1234},"memory":{"workingSetBytes":1}}}`, cpu: "1234n", memory: "1", ok: true},
		{name: "no rate yet", summary: `{"node":{"cpu":{"usageCoreNanoSeconds":5},"memory":{"workingSetBytes":1}}}`},
		{name: "no memory", summary: `{"node":{"cpu":{"usageNanoCores":5}}}`},
		{name: "empty", summary: `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := nodeMetrics(node, decodeSummary(t, tt.summary), now)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if m.Name != "n1" || m.Labels["a"] != "b" || m.Window.Duration != metricsWindow || !m.CreationTimestamp.Time.Equal(now) {
				t.Errorf("metadata %+v window %v", m.ObjectMeta, m.Window)
			}
			if m.Usage.Cpu().String() != tt.cpu || m.Usage.Memory().String() != tt.memory {
				t.Errorf("usage cpu %s memory %s, want %s %s", m.Usage.Cpu(), m.Usage.Memory(), tt.cpu, tt.memory)
			}
		})
	}
}

func TestPodMetricsConversion(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "u1", Labels: map[string]string{"app": "web"}}}
	const c1 = `{"name":"app","cpu":{"time":"2026-01-01T00:00:20Z","usageNanoCores":250000000},"memory":{"workingSetBytes":33554432}}`
	const c2 = `{"name":"side","cpu":{"time":"2026-01-01T00:00:25Z","usageNanoCores":0},"memory":{"workingSetBytes":0}}`
	tests := []struct {
		name       string
		pod        string
		containers string // name=cpu/memory,...
		timestamp  time.Time
		ok         bool
	}{
		{name: "two containers, newest time", pod: `{"podRef":{"name":"web","namespace":"ns","uid":"u1"},"containers":[` + c1 + `,` + c2 + `]}`,
			containers: "app=250m/32Mi,side=0/0", timestamp: now.Add(-5 * time.Second), ok: true},
		{name: "no uid in the summary", pod: `{"podRef":{"name":"web","namespace":"ns"},"containers":[` + c1 + `]}`,
			containers: "app=250m/32Mi", timestamp: now.Add(-10 * time.Second), ok: true},
		{name: "another pod of the same name", pod: `{"podRef":{"name":"web","namespace":"ns","uid":"old"},"containers":[` + c1 + `]}`},
		{name: "no containers", pod: `{"podRef":{"name":"web","namespace":"ns","uid":"u1"},"containers":[]}`},
		{name: "a container without rate", pod: `{"podRef":{"name":"web","namespace":"ns","uid":"u1"},"containers":[` + c1 + `,{"name":"x","cpu":{},"memory":{"workingSetBytes":1}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps summaryPod
			if err := json.Unmarshal([]byte(tt.pod), &ps); err != nil {
				t.Fatal(err)
			}
			m, ok := podMetrics(pod, &ps, now)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			got := ""
			for i, c := range m.Containers {
				if i > 0 {
					got += ","
				}
				got += c.Name + "=" + c.Usage.Cpu().String() + "/" + c.Usage.Memory().String()
			}
			if got != tt.containers || !m.Timestamp.Time.Equal(tt.timestamp) || m.Namespace != "ns" || m.Labels["app"] != "web" {
				t.Errorf("got %s at %v (%+v), want %s at %v", got, m.Timestamp, m.ObjectMeta, tt.containers, tt.timestamp)
			}
		})
	}
}

func TestIndexPods(t *testing.T) {
	a := decodeSummary(t, `{"pods":[{"podRef":{"name":"p","namespace":"x"}},{"podRef":{"name":"q","namespace":"x"}}]}`)
	b := decodeSummary(t, `{"pods":[{"podRef":{"name":"p","namespace":"y"}}]}`)
	idx := indexPods(map[string]*summary{"a": a, "b": b})
	if len(idx) != 3 || idx[[2]string{"y", "p"}] != &b.Pods[0] || idx[[2]string{"x", "q"}] != &a.Pods[1] {
		t.Errorf("index %v", idx)
	}
}
