package agent

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

func TestImageBytesToFree(t *testing.T) {
	const gb = int64(1 << 30)
	p := DefaultGCPolicy()
	tests := []struct {
		name   string
		fs     Amount
		policy GCPolicy
		want   int64
	}{
		{name: "not measured", fs: Amount{}, policy: p, want: 0},
		{name: "under the high threshold", fs: Amount{Available: 16 * gb, Capacity: 100 * gb}, policy: p, want: 0},
		{name: "at the high threshold: down to the low one", fs: Amount{Available: 15 * gb, Capacity: 100 * gb}, policy: p, want: 5 * gb},
		{name: "full", fs: Amount{Available: 0, Capacity: 100 * gb}, policy: p, want: 20 * gb},
		{name: "100% turns it off", fs: Amount{Available: 0, Capacity: 100 * gb},
			policy: GCPolicy{ImageHighThresholdPercent: 100, ImageLowThresholdPercent: 80}, want: 0},
		{name: "own thresholds", fs: Amount{Available: 40 * gb, Capacity: 100 * gb},
			policy: GCPolicy{ImageHighThresholdPercent: 50, ImageLowThresholdPercent: 30}, want: 30 * gb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ImageBytesToFree(tt.fs, tt.policy); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPlanImageGC(t *testing.T) {
	img := func(id string, size int64, firstSeen, lastUsed float64) ImageRecord {
		return ImageRecord{ID: id, Size: size, FirstSeen: at(firstSeen), LastUsed: at(lastUsed)}
	}
	inUse := func(r ImageRecord) ImageRecord { r.InUse = true; return r }
	pinned := func(r ImageRecord) ImageRecord { r.Pinned = true; return r }
	now := at(1000)
	tests := []struct {
		name      string
		images    []ImageRecord
		toFree    int64
		want      string
		wantFreed int64
	}{
		{name: "nothing to free", images: []ImageRecord{img("a", 10, 0, 0)}, toFree: 0, want: ""},
		{name: "least recently used first, until enough",
			images: []ImageRecord{img("new", 10, 0, 900), img("old", 10, 0, 100), img("mid", 10, 0, 500)},
			toFree: 15, want: "old mid", wantFreed: 20},
		{name: "equal use: first seen first, then ID",
			images: []ImageRecord{img("b", 10, 50, 100), img("a", 10, 50, 100), img("c", 10, 10, 100)},
			toFree: 25, want: "c a b", wantFreed: 30},
		{name: "in use and pinned never",
			images: []ImageRecord{inUse(img("used", 100, 0, 0)), pinned(img("pause", 100, 0, 0)), img("free", 5, 0, 0)},
			toFree: 1000, want: "free", wantFreed: 5},
		{name: "younger than the minimum age kept",
			images: []ImageRecord{img("young", 100, 900, 900), img("old", 5, 800, 800)},
			toFree: 1000, want: "old", wantFreed: 5},
		{name: "reclaim takes every unused image",
			images: []ImageRecord{img("a", 1, 0, 10), img("b", 2, 0, 20), inUse(img("c", 3, 0, 30))},
			toFree: AllUnusedImages, want: "a b", wantFreed: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, freed := PlanImageGC(tt.images, tt.toFree, 2*time.Minute, now)
			var ids []string
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if s := strings.Join(ids, " "); s != tt.want || freed != tt.wantFreed {
				t.Errorf("got %q (%d bytes), want %q (%d bytes)", s, freed, tt.want, tt.wantFreed)
			}
		})
	}
}

func TestPlanContainerGC(t *testing.T) {
	const uid = "uid-p"
	known := map[types.UID]bool{uid: true}
	p := DefaultGCPolicy()
	tests := []struct {
		name     string
		world    *world
		known    map[types.UID]bool
		allKnown bool
		policy   GCPolicy
		want     string
	}{
		{name: "running and one dead kept", known: known, policy: p,
			world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c3", "a", 2, at(-1)).
				exited("sb1", "c2", "a", 1, 1, at(-3), at(-2)).exited("sb1", "c1", "a", 0, 1, at(-5), at(-4)),
			want: "RemoveContainer:c1"},
		{name: "dead current kept with the one before (lastState)", known: known, policy: p,
			world: newWorld().sandbox(uid, "sb1", 0, true).exited("sb1", "c4", "a", 3, 1, at(-1), at(-1)).
				exited("sb1", "c3", "a", 2, 1, at(-3), at(-2)).exited("sb1", "c2", "a", 1, 1, at(-5), at(-4)).
				exited("sb1", "c1", "a", 0, 1, at(-7), at(-6)),
			want: "RemoveContainer:c2 RemoveContainer:c1"},
		{name: "each container of the pod counted apart", known: known, policy: p,
			world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "a2", "a", 1, at(-1)).exited("sb1", "a1", "a", 0, 1, at(-3), at(-2)).
				running("sb1", "b3", "b", 2, at(-1)).exited("sb1", "b2", "b", 1, 1, at(-3), at(-2)).exited("sb1", "b1", "b", 0, 1, at(-5), at(-4)),
			want: "RemoveContainer:b1"},
		{name: "more dead kept when asked", known: known, policy: GCPolicy{MaxPerPodContainer: 2},
			world: newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c3", "a", 2, at(-1)).
				exited("sb1", "c2", "a", 1, 1, at(-3), at(-2)).exited("sb1", "c1", "a", 0, 1, at(-5), at(-4)),
			want: ""},
		{name: "old stopped sandbox without kept containers removed", known: known, policy: p,
			world: newWorld().sandbox(uid, "sb2", 1, true).sandbox(uid, "sb1", 0, false).
				running("sb2", "c3", "a", 2, at(-1)).exited("sb2", "c2", "a", 1, 1, at(-3), at(-2)).exited("sb1", "c1", "a", 0, 1, at(-5), at(-4)),
			want: "RemoveContainer:c1 RemoveSandbox:sb1"},
		{name: "old sandbox holding the kept dead container stays", known: known, policy: p,
			world: newWorld().sandbox(uid, "sb2", 1, true).sandbox(uid, "sb1", 0, false).
				running("sb2", "c2", "a", 1, at(-1)).exited("sb1", "c1", "a", 0, 1, at(-5), at(-4)),
			want: ""},
		{name: "gone pod removed once nothing runs", known: map[types.UID]bool{}, allKnown: true, policy: p,
			world: newWorld().sandbox("gone", "sb9", 0, false).exited("sb9", "c9", "a", 0, 0, at(-5), at(-1)),
			want:  "RemoveSandbox:sb9"},
		{name: "gone pod still running left to Plan", known: map[types.UID]bool{}, allKnown: true, policy: p,
			world: newWorld().sandbox("gone", "sb9", 0, false).running("sb9", "c9", "a", 0, at(-5)),
			want:  ""},
		{name: "gone pod with a ready sandbox left to Plan", known: map[types.UID]bool{}, allKnown: true, policy: p,
			world: newWorld().sandbox("gone", "sb9", 0, true).exited("sb9", "c9", "a", 0, 0, at(-5), at(-1)),
			want:  ""},
		{name: "unknown pod kept while sources are not all read", known: map[types.UID]bool{}, allKnown: false, policy: p,
			world: newWorld().sandbox("gone", "sb9", 0, false).exited("sb9", "c9", "a", 0, 0, at(-5), at(-1)),
			want:  ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PlanContainerGC(tt.world.state(), tt.known, tt.allKnown, t0, tt.policy.withDefaults())
			if s := describe(got); s != tt.want {
				t.Errorf("got %q, want %q", s, tt.want)
			}
		})
	}
}

func TestPlanContainerGCMinAge(t *testing.T) {
	const uid = "uid-p"
	st := newWorld().sandbox(uid, "sb1", 0, true).running("sb1", "c3", "a", 2, at(-1)).
		exited("sb1", "c2", "a", 1, 1, at(-3), at(-2)).exited("sb1", "c1", "a", 0, 1, at(-5), at(-4)).state()
	for _, c := range st.Pods[uid].Containers["a"] {
		c.CreatedAt = at(-60)
	}
	p := GCPolicy{ContainerMinAge: 2 * time.Minute}.withDefaults()
	if got := describe(PlanContainerGC(st, map[types.UID]bool{uid: true}, true, t0, p)); got != "" {
		t.Errorf("a container younger than the minimum age removed: %q", got)
	}
	if got := describe(PlanContainerGC(st, map[types.UID]bool{uid: true}, true, at(61), p)); got != "RemoveContainer:c1" {
		t.Errorf("old enough: got %q", got)
	}
}

func TestNormalizeImage(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                           "docker.io/library/busybox:latest",
		"busybox:1.35":                      "docker.io/library/busybox:1.35",
		"user/app":                          "docker.io/user/app:latest",
		"registry.skiff.local/pause:3.10":   "registry.skiff.local/pause:3.10",
		"localhost:5000/app":                "localhost:5000/app:latest",
		"localhost/app":                     "localhost/app:latest",
		"quay.io/x/y@sha256:abc":            "quay.io/x/y@sha256:abc",
		"registry.skiff.local/skiff-test:1": "registry.skiff.local/skiff-test:1",
	} {
		if got := normalizeImage(in); got != want {
			t.Errorf("normalizeImage(%q) = %q, want %q", in, got, want)
		}
	}
}
