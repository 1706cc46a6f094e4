package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// PullImage returns the image's ID (config digest), pulling it only if
// it is not present: Skiff's nodes run offline from imported images, so a
// present image is never re-fetched, whatever the tag.
func (r *Runtime) PullImage(ctx context.Context, image string) (string, error) {
	img, err := r.ImageStatus(ctx, image)
	if err != nil {
		return "", err
	}
	if img != nil {
		return img.ID, nil
	}
	resp, err := r.images.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: image}})
	if err != nil {
		return "", wrap(err, "pull image "+image)
	}
	return resp.GetImageRef(), nil
}

// ImageStatus returns the image, or nil if it is not present.
func (r *Runtime) ImageStatus(ctx context.Context, image string) (*runtime.Image, error) {
	resp, err := r.images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: image}})
	if err != nil {
		return nil, wrap(err, "image status "+image)
	}
	return imageFromCRI(resp.GetImage()), nil
}
