package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

// epoch is the timestamp of every file and image Skiff builds, so that the
// same inputs give the same digests.
func epoch() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }

// File is one entry of a layer.
type File struct {
	// Path is absolute inside the image ("/bin/sh").
	Path string
	// Mode holds the permission bits; fs.ModeDir marks a directory and
	// fs.ModeSymlink a symlink to Link.
	Mode fs.FileMode
	Data []byte
	Link string
}

// Spec describes an image to build.
type Spec struct {
	// Names are full references ("registry.skiff.local/pause:3.10"); the
	// archive tags the image with each.
	Names []string
	// Layers are applied in order.
	Layers [][]File
	// Architecture and OS of the binaries ("amd64", "linux").
	Architecture, OS string
	// Config is the default process.
	Config ContainerConfig
	// Gzip compresses the layers (as registries and `docker save` ship
	// them); Skiff's own images are uncompressed.
	Gzip bool
}

// Built describes an archive WriteArchive wrote.
type Built struct {
	Manifest Descriptor
	Config   Descriptor
	Layers   []Descriptor
}

// WriteArchive writes spec as an OCI image layout in a tar stream
// (oci-layout, index.json, blobs/sha256/...), with a docker-archive
// manifest.json beside it so `docker load` reads it too. Layers are
// uncompressed. The output depends only on spec.
func WriteArchive(w io.Writer, spec Spec) (Built, error) {
	if len(spec.Names) == 0 {
		return Built{}, fmt.Errorf("image: no names")
	}
	var built Built
	blobs := map[string][]byte{}
	add := func(mediaType string, data []byte) Descriptor {
		d := Descriptor{MediaType: mediaType, Digest: Digest(data), Size: int64(len(data))}
		blobs[d.Digest] = data
		return d
	}
	created := epoch()
	cfg := Config{
		Created:      &created,
		Architecture: spec.Architecture,
		OS:           spec.OS,
		Config:       spec.Config,
		RootFS:       RootFS{Type: "layers"},
	}
	for i, files := range spec.Layers {
		data, err := layerTar(files)
		if err != nil {
			return Built{}, fmt.Errorf("image %s: layer %d: %w", spec.Names[0], i, err)
		}
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, Digest(data))
		mediaType := MediaTypeOCILayer
		if spec.Gzip {
			if data, err = gzipBytes(data); err != nil {
				return Built{}, fmt.Errorf("image %s: layer %d: %w", spec.Names[0], i, err)
			}
			mediaType = MediaTypeOCILayerGzip
		}
		built.Layers = append(built.Layers, add(mediaType, data))
		cfg.History = append(cfg.History, History{Created: &created, CreatedBy: "skiff image build"})
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return Built{}, fmt.Errorf("image config: %w", err)
	}
	built.Config = add(MediaTypeOCIConfig, cfgJSON)
	manifestJSON, err := json.Marshal(Manifest{
		SchemaVersion: 2, MediaType: MediaTypeOCIManifest, Config: built.Config, Layers: built.Layers,
	})
	if err != nil {
		return Built{}, fmt.Errorf("image manifest: %w", err)
	}
	built.Manifest = add(MediaTypeOCIManifest, manifestJSON)
	meta, err := layoutFiles(spec.Names, built)
	if err != nil {
		return Built{}, err
	}
	if err := writeLayout(w, meta, blobs); err != nil {
		return Built{}, fmt.Errorf("image %s: %w", spec.Names[0], err)
	}
	return built, nil
}

// gzipBytes compresses data (without a timestamp, so deterministically).
func gzipBytes(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// layoutFiles returns oci-layout, index.json and manifest.json.
func layoutFiles(names []string, built Built) (map[string][]byte, error) {
	index := Index{SchemaVersion: 2, MediaType: MediaTypeOCIIndex}
	for _, name := range names {
		d := built.Manifest
		d.Annotations = map[string]string{AnnotationImageName: name, AnnotationRefName: tagOf(name)}
		index.Manifests = append(index.Manifests, d)
	}
	docker := []DockerManifestEntry{{Config: blobPath(built.Config.Digest), RepoTags: names}}
	for _, l := range built.Layers {
		docker[0].Layers = append(docker[0].Layers, blobPath(l.Digest))
	}
	out := map[string][]byte{"oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`)}
	for name, v := range map[string]any{"index.json": index, "manifest.json": docker} {
		data, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", name, err)
		}
		out[name] = data
	}
	return out, nil
}

// tagOf returns the tag of a reference ("latest" if it has none).
func tagOf(ref string) string {
	last := ref[strings.LastIndex(ref, "/")+1:]
	if _, tag, ok := strings.Cut(last, ":"); ok {
		return tag
	}
	return "latest"
}

// writeLayout writes the layout's files and blobs in a fixed order.
func writeLayout(w io.Writer, meta, blobs map[string][]byte) error {
	tw := tar.NewWriter(w)
	dirs := []string{"blobs/", "blobs/sha256/"}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: epoch()}); err != nil {
			return err
		}
	}
	entries := map[string][]byte{}
	for name, data := range meta {
		entries[name] = data
	}
	for digest, data := range blobs {
		entries[blobPath(digest)] = data
	}
	for _, name := range sortedKeys(entries) {
		data := entries[name]
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: epoch()}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}

// layerTar renders files (and their missing parent directories) as an
// uncompressed layer.
func layerTar(files []File) ([]byte, error) {
	entries := map[string]File{}
	for _, f := range files {
		p := path.Clean("/" + f.Path)
		if p == "/" {
			return nil, fmt.Errorf("file with empty path")
		}
		f.Path = p
		if _, dup := entries[p]; dup {
			return nil, fmt.Errorf("duplicate file %s", p)
		}
		entries[p] = f
		for dir := path.Dir(p); dir != "/"; dir = path.Dir(dir) {
			if _, ok := entries[dir]; !ok {
				entries[dir] = File{Path: dir, Mode: fs.ModeDir | 0o755}
			}
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range sortedKeys(entries) {
		if err := writeEntry(tw, entries[p]); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeEntry(tw *tar.Writer, f File) error {
	hdr := &tar.Header{
		Name:    strings.TrimPrefix(f.Path, "/"),
		Mode:    int64(f.Mode.Perm()),
		ModTime: epoch(),
		Format:  tar.FormatPAX,
	}
	if f.Mode&fs.ModeSticky != 0 {
		hdr.Mode |= 0o1000
	}
	switch {
	case f.Mode.IsDir():
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
	case f.Mode&fs.ModeSymlink != 0:
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = f.Link
		hdr.Mode = 0o777
	default:
		hdr.Typeflag = tar.TypeReg
		hdr.Size = int64(len(f.Data))
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeReg {
		_, err := tw.Write(f.Data)
		return err
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
