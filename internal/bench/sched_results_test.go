package bench

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPerSecondCounts(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms ...int) []time.Time {
		out := make([]time.Time, len(ms))
		for i, m := range ms {
			out[i] = t0.Add(time.Duration(m) * time.Millisecond)
		}
		return out
	}
	cases := []struct {
		name  string
		times []time.Time
		want  string
	}{
		{"none", nil, ""},
		{"first second", at(0, 999), "2"},
		{"gap", at(10, 2500, 2600, 3000), "1, 0, 2, 1"},
	}
	for _, c := range cases {
		if got := joinInts(perSecondCounts(t0, c.times)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestBindTracker(t *testing.T) {
	tr := newBindTracker()
	now := time.Unix(0, 0)
	tr.now = func() time.Time { return now }
	pod := func(name, node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node}}
	}
	tr.observe(pod("pod-0", ""))
	tr.observe(pod("init-0", "n1")) // listed already bound: latency 0
	now = now.Add(300 * time.Millisecond)
	tr.observe(pod("pod-1", ""))
	now = now.Add(200 * time.Millisecond)
	tr.observe(pod("pod-0", "n2"))
	now = now.Add(time.Second)
	tr.observe(pod("pod-0", "n2")) // a status update: not a second bind
	tr.observe(pod("pod-1", "n3"))
	if n, _ := tr.countBound("pod"); n != 2 {
		t.Errorf("bound pods = %d, want 2", n)
	}
	if n, _ := tr.countBound("init"); n != 1 {
		t.Errorf("bound init pods = %d, want 1", n)
	}
	lat, binds := tr.samples("pod")
	if len(binds) != 2 || !binds[0].Before(binds[1]) {
		t.Fatalf("binds %v, want two sorted", binds)
	}
	p := percentiles(lat)
	if p.P50 != 500*time.Millisecond || p.P99 != 1200*time.Millisecond {
		t.Errorf("latencies %v, want 500ms and 1.2s", lat)
	}
}

func TestSchedVerdict(t *testing.T) {
	ok := ScenarioResult{Name: ScenarioBasic, Measured: 2000, Elapsed: time.Second, Latency: Percentiles{P99: 900 * time.Millisecond}}
	slow := ok
	slow.Latency.P99 = 2 * time.Second
	backlog := ScenarioResult{Name: ScenarioBacklog, Backlog: true, Measured: 1500, Elapsed: time.Second}
	spread := ScenarioResult{Name: ScenarioSpread, Measured: 100, Elapsed: time.Second}
	for _, c := range []struct {
		r    ScenarioResult
		want string
	}{{ok, "pass"}, {slow, "**fail**"}, {backlog, "pass"}, {spread, "below"}} {
		if got := verdict(c.r); got != c.want {
			t.Errorf("%s p99 %v: %q, want %q", c.r.Name, c.r.Latency.P99, got, c.want)
		}
	}
}
