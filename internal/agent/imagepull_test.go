package agent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestDecidePull(t *testing.T) {
	tests := []struct {
		policy  corev1.PullPolicy
		image   string
		present bool
		want    pullAction
	}{
		{corev1.PullAlways, "app:1", true, pullImage},
		{corev1.PullAlways, "app:1", false, pullImage},
		{corev1.PullIfNotPresent, "app:1", true, usePresent},
		{corev1.PullIfNotPresent, "app:1", false, pullImage},
		{corev1.PullNever, "app:1", true, usePresent},
		{corev1.PullNever, "app:1", false, neverPull},
		{"", "app", true, pullImage}, // untagged: Always
		{"", "app:latest", true, pullImage},
		{"", "app:1", true, usePresent}, // tagged: IfNotPresent
		{"", "app:1", false, pullImage},
	}
	for _, tt := range tests {
		if got := decidePull(tt.policy, tt.image, tt.present); got != tt.want {
			t.Errorf("%q %s present=%v: %d, want %d", tt.policy, tt.image, tt.present, got, tt.want)
		}
	}
}

func TestPullBackoff(t *testing.T) {
	b := pullBackoff{initial: 10 * time.Second, max: 40 * time.Second}
	key := pullKey("uid-1", "app:1")
	steps := []struct {
		at      float64 // seconds after t0
		fail    bool    // a pull fails at this time
		waiting bool    // a pull is held back at this time
		delay   time.Duration
	}{
		{at: 0, waiting: false},
		{at: 0, fail: true, delay: 10 * time.Second},
		{at: 5, waiting: true},
		{at: 9.9, waiting: true},
		{at: 10, waiting: false},
		{at: 10, fail: true, delay: 20 * time.Second},
		{at: 29, waiting: true},
		{at: 30, fail: true, delay: 40 * time.Second},
		{at: 70, fail: true, delay: 40 * time.Second}, // capped
		{at: 109, waiting: true},
		{at: 200, fail: true, delay: 10 * time.Second}, // quiet for 2×max: from the start
	}
	for _, s := range steps {
		now := at(s.at)
		if s.fail {
			if d := b.failed(key, "denied", now); d != s.delay {
				t.Errorf("t=%v: delay %s, want %s", s.at, d, s.delay)
			}
			continue
		}
		if got := b.waiting(key, now) != nil; got != s.waiting {
			t.Errorf("t=%v: waiting %v, want %v", s.at, got, s.waiting)
		}
	}
	if f := b.waiting(key, at(201)); f == nil || f.message != "denied" {
		t.Fatalf("waiting entry %+v", f)
	}
	if b.waiting(pullKey("uid-2", "app:1"), at(201)) != nil {
		t.Error("another pod's pull is held back")
	}
	b.forget(map[types.UID]bool{"uid-2": true})
	if b.waiting(key, at(201)) != nil {
		t.Error("forgotten pod still held back")
	}
	b.failed(key, "x", at(300))
	b.succeeded(key)
	if b.waiting(key, at(301)) != nil {
		t.Error("a success did not clear the back-off")
	}
}

func TestLogTail(t *testing.T) {
	log := "2026-01-02T03:04:05.000000001Z stdout F one\n" +
		"2026-01-02T03:04:05.000000002Z stderr P two \n" +
		"2026-01-02T03:04:05.000000003Z stderr F halves\n" +
		"garbage\n" +
		"2026-01-02T03:04:05.000000004Z stdout F three\n"
	tests := []struct {
		lines, bytes int
		want         string
	}{
		{80, 2048, "one\ntwo halves\nthree\n"},
		{2, 2048, "two halves\nthree\n"},
		{80, 8, "s\nthree\n"},
	}
	for _, tt := range tests {
		if got := logTail([]byte(log), tt.lines, tt.bytes); got != tt.want {
			t.Errorf("lines %d bytes %d: %q, want %q", tt.lines, tt.bytes, got, tt.want)
		}
	}
	if got := logTail(nil, 80, 2048); got != "" {
		t.Errorf("empty log: %q", got)
	}
}
