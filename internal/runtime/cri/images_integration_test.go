package cri_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/image"
	"github.com/skiffkube/skiff/internal/runtime"
)

// findImage returns the listed image tagged name, or nil.
func findImage(images []*runtime.Image, name string) *runtime.Image {
	for _, img := range images {
		if slices.Contains(img.Tags, name) {
			return img
		}
	}
	return nil
}

// TestListAndRemoveImages lists the imported images, removes one and
// checks it is gone, and that removing it again is not an error.
func TestListAndRemoveImages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rt := startNode(t, ctx)

	images, err := rt.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		t.Logf("image %s %v size %d pinned %v", img.ID, img.Tags, img.Size, img.Pinned)
	}
	img := findImage(images, image.TestImage)
	if img == nil {
		t.Fatalf("%s not listed", image.TestImage)
	}
	if img.Size == 0 || img.ID == "" {
		t.Errorf("test image listed without size or ID: %+v", *img)
	}
	if pause := findImage(images, image.PauseImage); pause == nil || !pause.Pinned {
		t.Errorf("sandbox image %s not listed as pinned: %+v", image.PauseImage, pause)
	}
	fs, err := rt.ImageFSInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) == 0 || fs[0].Mountpoint == "" {
		t.Errorf("image fs info: %+v", fs)
	}
	t.Logf("image fs: %+v", fs)

	if err := rt.RemoveImage(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	images, err = rt.ListImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if findImage(images, image.TestImage) != nil {
		t.Errorf("%s still listed after RemoveImage", image.TestImage)
	}
	if st, err := rt.ImageStatus(ctx, image.TestImage); err != nil || st != nil {
		t.Errorf("image status after removal: %+v, %v", st, err)
	}
	if findImage(images, image.BusyboxImage) == nil {
		t.Errorf("%s went with the test image", image.BusyboxImage)
	}
	if err := rt.RemoveImage(ctx, img.ID); err != nil {
		t.Errorf("removing an absent image: %v", err)
	}
}
