package cri

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// ListImages implements runtime.Runtime. The sandbox image is reported
// pinned even by runtimes that do not pin it themselves (containerd
// before 1.7), so that garbage collection keeps it.
func (r *Runtime) ListImages(ctx context.Context) ([]*runtime.Image, error) {
	resp, err := r.images.ListImages(ctx, &runtimeapi.ListImagesRequest{})
	if err != nil {
		return nil, wrap(err, "list images")
	}
	sandboxImage, err := r.sandboxImage(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*runtime.Image, 0, len(resp.GetImages()))
	for _, img := range resp.GetImages() {
		im := imageFromCRI(img)
		im.Pinned = img.GetPinned() || (sandboxImage != "" && slices.Contains(im.Tags, sandboxImage))
		out = append(out, im)
	}
	return out, nil
}

// sandboxImage is the runtime's sandbox image as its verbose status
// shows its configuration (containerd's "sandboxImage"), or "" if it
// does not say.
func (r *Runtime) sandboxImage(ctx context.Context) (string, error) {
	resp, err := r.rt.Status(ctx, &runtimeapi.StatusRequest{Verbose: true})
	if err != nil {
		return "", wrap(err, "status")
	}
	var cfg struct {
		SandboxImage string `json:"sandboxImage"`
	}
	if raw := resp.GetInfo()["config"]; raw == "" || json.Unmarshal([]byte(raw), &cfg) != nil {
		return "", nil
	}
	return cfg.SandboxImage, nil
}

// RemoveImage implements runtime.Runtime: the image and all its tags go.
// An image that is already gone is not an error.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	_, err := r.images.RemoveImage(ctx, &runtimeapi.RemoveImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}})
	if err != nil && !IsNotFound(wrap(err, "")) {
		return wrap(err, "remove image "+ref)
	}
	return nil
}

// ImageFSUsage is what the runtime's image filesystems hold: their
// mount points and the bytes and inodes the images use on them.
type ImageFSUsage struct {
	Mountpoint string
	UsedBytes  uint64
	InodesUsed uint64
}

// ImageFSInfo returns the usage of the runtime's image filesystems
// (containerd reports its snapshotter's).
func (r *Runtime) ImageFSInfo(ctx context.Context) ([]ImageFSUsage, error) {
	resp, err := r.images.ImageFsInfo(ctx, &runtimeapi.ImageFsInfoRequest{})
	if err != nil {
		return nil, wrap(err, "image fs info")
	}
	var out []ImageFSUsage
	for _, fs := range resp.GetImageFilesystems() {
		if fs == nil {
			return nil, fmt.Errorf("cri: image fs info: empty filesystem entry")
		}
		out = append(out, ImageFSUsage{
			Mountpoint: fs.GetFsId().GetMountpoint(),
			UsedBytes:  fs.GetUsedBytes().GetValue(),
			InodesUsed: fs.GetInodesUsed().GetValue(),
		})
	}
	return out, nil
}
