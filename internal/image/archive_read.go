package image

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"strings"
)

// layout is an OCI image layout unpacked in a directory.
type layout struct {
	dir string
}

// extractArchive unpacks an image tarball (regular files only; names are
// cleaned and kept inside dir).
func extractArchive(tarPath, dir string) (*layout, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tarPath, err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean("/" + hdr.Name)
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := copyFile(dst, tr); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", tarPath, hdr.Name, err)
		}
	}
	return &layout{dir: dir}, nil
}

func copyFile(dst string, r io.Reader) error {
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// blob is the path of a digest's blob.
func (l *layout) blob(digest string) (string, error) {
	algo, hexPart, ok := strings.Cut(digest, ":")
	if !ok || algo != "sha256" || len(hexPart) != 64 || strings.ContainsAny(hexPart, "/.") {
		return "", fmt.Errorf("bad digest %q", digest)
	}
	return filepath.Join(l.dir, "blobs", algo, hexPart), nil
}

// has reports whether the archive holds the digest's blob.
func (l *layout) has(digest string) bool {
	p, err := l.blob(digest)
	if err != nil {
		return false
	}
	_, err = os.Stat(p)
	return err == nil
}

func (l *layout) readJSON(digest string, v any) ([]byte, error) {
	p, err := l.blob(digest)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", digest, err)
	}
	if got := Digest(data); got != digest {
		return nil, fmt.Errorf("blob %s has digest %s", digest, got)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("blob %s: %w", digest, err)
	}
	return data, nil
}

// namedImage is one image the archive names.
type namedImage struct {
	name   string
	target Descriptor // what the image record points at (index or manifest)
}

// images lists the named images of index.json.
func (l *layout) images() ([]namedImage, error) {
	data, err := os.ReadFile(filepath.Join(l.dir, "index.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("no index.json: not an OCI image layout archive (docker-archive tarballs from old `docker save` are not supported; use `docker save` >= 25 or `ctr export`)")
	}
	if err != nil {
		return nil, err
	}
	var index Index
	if err := json.Unmarshal(data, &index); err != nil {
		return nil, fmt.Errorf("index.json: %w", err)
	}
	var out []namedImage
	for _, d := range index.Manifests {
		name := imageName(d.Annotations)
		if name == "" {
			continue
		}
		target := d
		target.Annotations, target.Platform = nil, nil
		out = append(out, namedImage{name: name, target: target})
	}
	if len(out) == 0 {
		return nil, errors.New("index.json names no image (no io.containerd.image.name or org.opencontainers.image.ref.name annotation)")
	}
	return out, nil
}

// imageName returns the full reference an index entry names, normalised
// as the CRI plugin names images ("busybox" -> docker.io/library/busybox:latest).
func imageName(annotations map[string]string) string {
	if n := annotations[AnnotationImageName]; n != "" {
		return NormalizeRef(n)
	}
	n := annotations[AnnotationRefName]
	if n == "" || !strings.ContainsAny(n, "/:") {
		// A bare tag says nothing about the repository.
		return ""
	}
	return NormalizeRef(n)
}

// NormalizeRef returns ref in the fully qualified form containerd stores:
// a registry host, a "library/" prefix for Docker Hub official images, and
// a tag (":latest" when there is neither tag nor digest).
func NormalizeRef(ref string) string {
	name, digest, _ := strings.Cut(ref, "@")
	first, rest, hasSlash := strings.Cut(name, "/")
	if !hasSlash || (!strings.ContainsAny(first, ".:") && first != "localhost") {
		if !hasSlash {
			name = "docker.io/library/" + name
		} else {
			name = "docker.io/" + first + "/" + rest
		}
	}
	if digest != "" {
		return name + "@" + digest
	}
	if !strings.Contains(name[strings.LastIndex(name, "/")+1:], ":") {
		name += ":latest"
	}
	return name
}

// resolve follows a target (an index or a manifest) to the manifest for
// this machine's platform, returning the descriptors to store: every
// index and manifest visited, then the config and layers.
func (l *layout) resolve(target Descriptor) (Manifest, []Descriptor, error) {
	switch target.MediaType {
	case MediaTypeOCIManifest, MediaTypeDockerManifest:
		var m Manifest
		if _, err := l.readJSON(target.Digest, &m); err != nil {
			return Manifest{}, nil, err
		}
		return m, []Descriptor{target}, nil
	case MediaTypeOCIIndex, MediaTypeDockerList:
		var idx Index
		if _, err := l.readJSON(target.Digest, &idx); err != nil {
			return Manifest{}, nil, err
		}
		for _, d := range idx.Manifests {
			if d.Platform != nil && (d.Platform.OS != "linux" || d.Platform.Architecture != goruntime.GOARCH) {
				continue
			}
			if !l.has(d.Digest) {
				continue // another platform's, not in the archive
			}
			m, chain, err := l.resolve(d)
			if err != nil {
				return Manifest{}, nil, err
			}
			return m, append([]Descriptor{target}, chain...), nil
		}
		return Manifest{}, nil, fmt.Errorf("index %s has no manifest for linux/%s", target.Digest, goruntime.GOARCH)
	default:
		return Manifest{}, nil, fmt.Errorf("unsupported media type %q of %s", target.MediaType, target.Digest)
	}
}
