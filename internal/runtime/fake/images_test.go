package fake

import (
	"context"
	"testing"

	"github.com/skiffkube/skiff/internal/runtime"
)

func TestImages(t *testing.T) {
	ctx := context.Background()
	r := New(Config{})
	big := r.AddImage("registry.local/big:1", 300<<20)
	pulled, err := r.PullImage(ctx, "registry.local/app:1")
	if err != nil {
		t.Fatal(err)
	}
	images, err := r.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sizes := map[string]uint64{}
	for _, img := range images {
		sizes[img.ID] = img.Size
	}
	if len(images) != 2 || sizes[big] != 300<<20 || sizes[pulled] != defaultImageSize {
		t.Fatalf("images %v, want big 300Mi and pulled 1Mi", sizes)
	}

	sbCfg := &runtime.PodSandboxConfig{Metadata: runtime.PodSandboxMetadata{Name: "p", Namespace: "ns", UID: "u"}}
	sb, err := r.RunPodSandbox(ctx, sbCfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: "a"}, Image: "registry.local/app:1"}, sbCfg); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveImage(ctx, "registry.local/app:1"); err == nil {
		t.Error("an image in use by a container was removed")
	}
	if err := r.RemoveImage(ctx, big); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.ImageStatus(ctx, "registry.local/big:1"); st != nil {
		t.Errorf("removed image still present: %+v", st)
	}
	if err := r.RemoveImage(ctx, big); err != nil {
		t.Errorf("removing an absent image: %v", err)
	}
	if err := r.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := r.RemoveImage(ctx, "registry.local/app:1"); err != nil {
		t.Errorf("removing by name once unused: %v", err)
	}
	if images, _ := r.ListImages(ctx); len(images) != 0 {
		t.Errorf("images left: %d", len(images))
	}
}
