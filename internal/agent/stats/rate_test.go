package stats

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestCPURate(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur cpuSample
		want      uint64
		ok        bool
	}{
		{name: "one core busy", prev: cpuSample{t0, 0}, cur: cpuSample{t0.Add(10 * time.Second), 10e9}, want: 1e9, ok: true},
		{name: "quarter core", prev: cpuSample{t0, 5e9}, cur: cpuSample{t0.Add(2 * time.Second), 5.5e9}, want: 250e6, ok: true},
		{name: "idle", prev: cpuSample{t0, 7}, cur: cpuSample{t0.Add(time.Second), 7}, want: 0, ok: true},
		{name: "large counters do not overflow", prev: cpuSample{t0, 1e18}, cur: cpuSample{t0.Add(100 * time.Second), 1e18 + 400e9}, want: 4e9, ok: true},
		{name: "time did not advance", prev: cpuSample{t0, 0}, cur: cpuSample{t0, 10}, ok: false},
		{name: "time went back", prev: cpuSample{t0, 0}, cur: cpuSample{t0.Add(-time.Second), 10}, ok: false},
		{name: "counter went back", prev: cpuSample{t0, 10}, cur: cpuSample{t0.Add(time.Second), 5}, ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cpuRate(tt.prev, tt.cur)
			if got != tt.want || ok != tt.ok {
				t.Errorf("got %d, %v; want %d, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRateTracker(t *testing.T) {
	type step struct {
		at     time.Duration
		total  uint64
		want   uint64
		wantOK bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "first sample has no rate", steps: []step{{0, 100, 0, false}}},
		{name: "second sample a window later", steps: []step{{0, 0, 0, false}, {2 * time.Second, 1e9, 5e8, true}}},
		{name: "too close: no rate yet, then measured from the first", steps: []step{
			{0, 0, 0, false}, {500 * time.Millisecond, 1e9, 0, false}, {time.Second, 2e9, 2e9, true}}},
		{name: "too close after a rate: reuses it", steps: []step{
			{0, 0, 0, false}, {time.Second, 1e9, 1e9, true}, {1200 * time.Millisecond, 5e9, 1e9, true}, {2 * time.Second, 1.5e9, 5e8, true}}},
		{name: "counter restart starts over", steps: []step{
			{0, 5e9, 0, false}, {time.Second, 6e9, 1e9, true}, {2 * time.Second, 1e6, 0, false}, {3 * time.Second, 1e6 + 3e8, 3e8, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newRateTracker(time.Second)
			for i, s := range tt.steps {
				got, ok := tr.observe("c", cpuSample{at: t0.Add(s.at), total: s.total})
				if got != s.want || ok != s.wantOK {
					t.Fatalf("step %d: got %d, %v; want %d, %v", i, got, ok, s.want, s.wantOK)
				}
			}
		})
	}
}

func TestRateTrackerForgets(t *testing.T) {
	tr := newRateTracker(time.Second)
	tr.observe("a", cpuSample{t0, 0})
	tr.observe("b", cpuSample{t0, 0})
	tr.forgetUnseen()
	tr.observe("a", cpuSample{t0.Add(time.Second), 1e9})
	tr.forgetUnseen()
	if _, ok := tr.state["b"]; ok {
		t.Error("b, unseen in the last sample, is still tracked")
	}
	if _, ok := tr.state["a"]; !ok {
		t.Error("a was forgotten")
	}
}
