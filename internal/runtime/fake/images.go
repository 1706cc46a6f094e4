package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"

	"github.com/skiffkube/skiff/internal/runtime"
)

// defaultImageSize is the size of an image pulled rather than added.
const defaultImageSize = 1 << 20

// AddImage makes an image present with the given size (as an import
// would) and returns its ID.
func (r *Runtime) AddImage(name string, size uint64) string {
	sum := sha256.Sum256([]byte(name))
	ref := "sha256:" + hex.EncodeToString(sum[:])
	r.mu.Lock()
	defer r.mu.Unlock()
	r.images[name] = ref
	r.imageSizes[ref] = size
	return ref
}

// ListImages implements runtime.Runtime.
func (r *Runtime) ListImages(context.Context) ([]*runtime.Image, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	refs := map[string]bool{}
	for _, ref := range r.images {
		refs[ref] = true
	}
	out := make([]*runtime.Image, 0, len(refs))
	for ref := range refs {
		out = append(out, r.imageLocked(ref))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RemoveImage implements runtime.Runtime. ref is an image ID or name; an
// image that a container (running or not) uses is not removed, which
// containerd would allow but the agent must never ask.
func (r *Runtime) RemoveImage(_ context.Context, ref string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := ref
	if named, ok := r.images[ref]; ok {
		id = named
	}
	for _, c := range r.containers {
		if c.ImageRef == id || r.images[c.Image] == id {
			return fmt.Errorf("removing image %s: in use by container %s", ref, c.ID)
		}
	}
	for name, v := range r.images {
		if v == id {
			delete(r.images, name)
		}
	}
	delete(r.imageSizes, id)
	return nil
}

// imageLocked describes the image ref with all its names; r.mu is held.
func (r *Runtime) imageLocked(ref string) *runtime.Image {
	img := &runtime.Image{ID: ref, Size: defaultImageSize}
	if size, ok := r.imageSizes[ref]; ok {
		img.Size = size
	}
	for name, v := range r.images {
		if v == ref {
			img.Tags = append(img.Tags, name)
		}
	}
	sort.Strings(img.Tags)
	return img
}
