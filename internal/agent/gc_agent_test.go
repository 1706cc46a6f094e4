package agent

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kfake "k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/skiffkube/skiff/internal/runtime"
	"github.com/skiffkube/skiff/internal/runtime/fake"
)

const mi = 1 << 20

// newGCAgent returns an agent (not running) over rt, for calling its
// garbage collection directly.
func newGCAgent(t *testing.T, rt runtime.Runtime, clk *clocktesting.FakeClock) *Agent {
	t.Helper()
	a, err := New(Config{NodeName: "n", Client: kfake.NewClientset(), Runtime: rt, Clock: clk, DataDir: t.TempDir(),
		GCPolicy: GCPolicy{ImageMinAge: time.Minute}, PinnedImages: []string{"registry.local/pause:1"}, DisableEvents: true})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// runIn starts a sandbox for pod uid with one container per image, and
// returns the sandbox ID.
func runIn(t *testing.T, rt runtime.Runtime, uid string, images ...string) string {
	t.Helper()
	ctx := context.Background()
	sbCfg := &runtime.PodSandboxConfig{Metadata: runtime.PodSandboxMetadata{Name: uid, Namespace: "ns", UID: uid}}
	sb, err := rt.RunPodSandbox(ctx, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, img := range images {
		cfg := &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: string(rune('a' + i))}, Image: img}
		id, err := rt.CreateContainer(ctx, sb, cfg, sbCfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	return sb
}

func imageTags(t *testing.T, rt runtime.Runtime) []string {
	t.Helper()
	images, err := rt.ListImages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, img := range images {
		tags = append(tags, img.Tags...)
	}
	slices.Sort(tags)
	return tags
}

// TestImageGCLeastRecentlyUsed follows images through use and disuse and
// checks that the least recently used go first, and that images in use,
// pinned or too young stay.
func TestImageGCLeastRecentlyUsed(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(t0)
	rt := fake.New(fake.Config{Clock: clk})
	for _, name := range []string{"registry.local/a:1", "registry.local/b:1", "registry.local/c:1", "registry.local/pause:1"} {
		rt.AddImage(name, 100*mi)
	}
	a := newGCAgent(t, rt, clk)
	log := slog.New(slog.DiscardHandler)
	observe := func() {
		t.Helper()
		st, err := Observe(ctx, rt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.observeImages(ctx, nil, st, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	sbA := runIn(t, rt, "pa", "registry.local/a:1")
	sbB := runIn(t, rt, "pb", "registry.local/b:1")
	runIn(t, rt, "pc", "registry.local/c:1")
	observe()
	// a goes out of use first, then b.
	clk.Step(time.Minute)
	if err := rt.RemovePodSandbox(ctx, sbA); err != nil {
		t.Fatal(err)
	}
	observe()
	clk.Step(time.Minute)
	if err := rt.RemovePodSandbox(ctx, sbB); err != nil {
		t.Fatal(err)
	}
	observe()
	clk.Step(time.Minute)
	rt.AddImage("registry.local/young:1", 100*mi)

	free := func(toFree int64) int64 {
		t.Helper()
		st, err := Observe(ctx, rt)
		if err != nil {
			t.Fatal(err)
		}
		freed, err := a.freeImages(ctx, nil, st, toFree, clk.Now(), log)
		if err != nil {
			t.Fatal(err)
		}
		return freed
	}
	if freed := free(50 * mi); freed != 100*mi {
		t.Errorf("freed %d bytes, want one image", freed)
	}
	want := []string{"registry.local/b:1", "registry.local/c:1", "registry.local/pause:1", "registry.local/young:1"}
	if got := imageTags(t, rt); !slices.Equal(got, want) {
		t.Errorf("after freeing 50Mi: %v, want %v (a was used least recently)", got, want)
	}
	if freed := free(AllUnusedImages); freed != 100*mi {
		t.Errorf("freed %d bytes, want b's", freed)
	}
	want = []string{"registry.local/c:1", "registry.local/pause:1", "registry.local/young:1"}
	if got := imageTags(t, rt); !slices.Equal(got, want) {
		t.Errorf("after freeing all unused: %v, want %v (in use, pinned and young kept)", got, want)
	}
	clk.Step(time.Minute)
	if free(AllUnusedImages); !slices.Equal(imageTags(t, rt), want[:2]) {
		t.Errorf("young image not removed once old enough: %v", imageTags(t, rt))
	}
}

// TestImageGCKeepsImagesOfPendingPods checks that an image no container
// uses yet is kept while a pod that may start names it.
func TestImageGCKeepsImagesOfPendingPods(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(t0)
	rt := fake.New(fake.Config{Clock: clk})
	rt.AddImage("docker.io/library/busybox:latest", 10*mi)
	rt.AddImage("registry.local/other:1", 10*mi)
	a := newGCAgent(t, rt, clk)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: "pending"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Image: "busybox"}}}}
	clk.Step(time.Hour)
	if _, err := a.observeImages(ctx, nil, RuntimeState{}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := a.freeImages(ctx, []*corev1.Pod{pod}, RuntimeState{}, AllUnusedImages, clk.Now(), slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	if got := imageTags(t, rt); !slices.Equal(got, []string{"docker.io/library/busybox:latest"}) {
		t.Errorf("images left %v, want the pending pod's", got)
	}
}

// TestContainerGC checks that the dead containers of a pod beyond the
// newest dead one are removed, the current and the one before kept (for
// lastState and logs --previous), and what is left of a gone pod removed.
func TestContainerGC(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(t0)
	rt := fake.New(fake.Config{Clock: clk})
	a := newGCAgent(t, rt, clk)
	sbCfg := &runtime.PodSandboxConfig{Metadata: runtime.PodSandboxMetadata{Name: "p", Namespace: "ns", UID: "u1"}}
	sb, err := rt.RunPodSandbox(ctx, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for attempt := range uint32(4) {
		cfg := &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: "main", Attempt: attempt}, Image: "registry.local/app:1"}
		id, err := rt.CreateContainer(ctx, sb, cfg, sbCfg)
		if err == nil {
			err = rt.StartContainer(ctx, id)
		}
		if err == nil && attempt < 3 {
			err = rt.StopContainer(ctx, id, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		clk.Step(time.Second)
	}
	gone := runIn(t, rt, "u2", "registry.local/app:1")
	if err := rt.StopPodSandbox(ctx, gone); err != nil {
		t.Fatal(err)
	}
	st, err := Observe(ctx, rt)
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{UID: types.UID("u1")}}
	if n := a.removeDeadContainers(ctx, []*corev1.Pod{pod}, st, clk.Now(), slog.New(slog.DiscardHandler)); n != 3 {
		t.Errorf("%d removals, want 3 (two old attempts, the gone pod's sandbox)", n)
	}
	left, err := rt.ListContainers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range left {
		got = append(got, c.ID)
	}
	slices.Sort(got)
	want := []string{ids[2], ids[3]}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("containers left %v, want the running one and the newest dead one %v", got, want)
	}
	sbs, err := rt.ListPodSandbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(sbs) != 1 || sbs[0].ID != sb {
		t.Errorf("sandboxes left %d, want only %s", len(sbs), sb)
	}
}
