package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"io/fs"
	"reflect"
	"testing"
)

// readTar returns every regular file of a tar stream, and the ordered
// names of all entries.
func readTar(t *testing.T, data []byte) (map[string][]byte, []string, map[string]*tar.Header) {
	t.Helper()
	files := map[string][]byte{}
	headers := map[string]*tar.Header{}
	var names []string
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		headers[hdr.Name] = hdr
		if hdr.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[hdr.Name] = b
		}
	}
	return files, names, headers
}

func testSpec() Spec {
	return Spec{
		Names:        []string{"registry.skiff.local/x:1", "docker.io/library/x:latest"},
		Architecture: "amd64",
		OS:           "linux",
		Layers: [][]File{
			{
				{Path: "/bin/tool", Mode: 0o755, Data: []byte("#!tool")},
				{Path: "/bin/sh", Mode: fs.ModeSymlink | 0o777, Link: "tool"},
				{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
			},
			{{Path: "/app", Mode: 0o755, Data: []byte("app")}},
		},
		Config: ContainerConfig{Entrypoint: []string{"/app"}, Env: []string{"A=B"}},
	}
}

func TestWriteArchiveLayout(t *testing.T) {
	var buf bytes.Buffer
	built, err := WriteArchive(&buf, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	files, _, _ := readTar(t, buf.Bytes())

	// Every blob is named by its digest.
	blobs := 0
	for name, data := range files {
		if len(name) > len("blobs/sha256/") && name[:len("blobs/sha256/")] == "blobs/sha256/" {
			blobs++
			if want := "blobs/sha256/" + Digest(data)[len("sha256:"):]; name != want {
				t.Errorf("blob %s has digest %s", name, Digest(data))
			}
		}
	}
	if blobs != 4 { // 2 layers, config, manifest
		t.Errorf("%d blobs, want 4", blobs)
	}
	if string(files["oci-layout"]) != `{"imageLayoutVersion":"1.0.0"}` {
		t.Errorf("oci-layout = %s", files["oci-layout"])
	}

	var index Index
	mustJSON(t, files["index.json"], &index)
	if len(index.Manifests) != 2 {
		t.Fatalf("index has %d manifests, want one per name", len(index.Manifests))
	}
	for i, want := range []string{"registry.skiff.local/x:1", "docker.io/library/x:latest"} {
		d := index.Manifests[i]
		if d.Annotations[AnnotationImageName] != want || d.Digest != built.Manifest.Digest {
			t.Errorf("index entry %d = %+v", i, d)
		}
	}
	if index.Manifests[1].Annotations[AnnotationRefName] != "latest" {
		t.Errorf("ref name = %q", index.Manifests[1].Annotations[AnnotationRefName])
	}

	var m Manifest
	manifestData := files[blobPath(built.Manifest.Digest)]
	mustJSON(t, manifestData, &m)
	if int64(len(manifestData)) != built.Manifest.Size || m.Config.Digest != built.Config.Digest || len(m.Layers) != 2 {
		t.Fatalf("manifest = %+v", m)
	}
	var cfg Config
	mustJSON(t, files[blobPath(m.Config.Digest)], &cfg)
	wantDiffs := []string{m.Layers[0].Digest, m.Layers[1].Digest}
	if !reflect.DeepEqual(cfg.RootFS.DiffIDs, wantDiffs) || cfg.RootFS.Type != "layers" {
		t.Errorf("rootfs = %+v, want diff IDs %v", cfg.RootFS, wantDiffs)
	}
	if cfg.Architecture != "amd64" || cfg.OS != "linux" || !reflect.DeepEqual(cfg.Config.Entrypoint, []string{"/app"}) {
		t.Errorf("config = %+v", cfg)
	}
	for _, l := range m.Layers {
		if int64(len(files[blobPath(l.Digest)])) != l.Size || l.MediaType != MediaTypeOCILayer {
			t.Errorf("layer %+v does not match its blob", l)
		}
	}

	var docker []DockerManifestEntry
	mustJSON(t, files["manifest.json"], &docker)
	if len(docker) != 1 || docker[0].Config != blobPath(built.Config.Digest) || len(docker[0].Layers) != 2 {
		t.Errorf("manifest.json = %+v", docker)
	}
}

func TestLayerContents(t *testing.T) {
	data, err := layerTar(testSpec().Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	files, names, headers := readTar(t, data)
	wantNames := []string{"bin/", "bin/sh", "bin/tool", "tmp/"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("entries = %v, want %v", names, wantNames)
	}
	if string(files["bin/tool"]) != "#!tool" || headers["bin/tool"].Mode != 0o755 {
		t.Errorf("bin/tool = %q mode %o", files["bin/tool"], headers["bin/tool"].Mode)
	}
	if h := headers["bin/sh"]; h.Typeflag != tar.TypeSymlink || h.Linkname != "tool" {
		t.Errorf("bin/sh = %+v", h)
	}
	if h := headers["tmp/"]; h.Typeflag != tar.TypeDir || h.Mode != 0o1777 {
		t.Errorf("tmp = type %c mode %o", h.Typeflag, h.Mode)
	}
	if _, err := layerTar([]File{{Path: "/a"}, {Path: "a"}}); err == nil {
		t.Error("duplicate path accepted")
	}
}

func TestWriteArchiveDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	ba, err := WriteArchive(&a, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	bb, err := WriteArchive(&b, testSpec())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || ba.Manifest.Digest != bb.Manifest.Digest {
		t.Error("same spec gave different archives")
	}
	spec := testSpec()
	spec.Config.Env = []string{"A=C"}
	var c bytes.Buffer
	bc, err := WriteArchive(&c, spec)
	if err != nil {
		t.Fatal(err)
	}
	if bc.Config.Digest == ba.Config.Digest || bc.Layers[0].Digest != ba.Layers[0].Digest {
		t.Error("config change must change the config digest and only it")
	}
}

func TestChainIDs(t *testing.T) {
	a := Digest([]byte("a"))
	b := Digest([]byte("b"))
	got := ChainIDs([]string{a, b})
	want := []string{a, Digest([]byte(a + " " + b))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ChainIDs = %v, want %v", got, want)
	}
}

func TestTagOf(t *testing.T) {
	for ref, want := range map[string]string{
		"registry.skiff.local/pause:3.10": "3.10",
		"localhost:5000/x":                "latest",
		"localhost:5000/x:v2":             "v2",
		"busybox":                         "latest",
	} {
		if got := tagOf(ref); got != want {
			t.Errorf("tagOf(%q) = %q, want %q", ref, got, want)
		}
	}
}

func mustJSON(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%v in %s", err, data)
	}
}

func TestWriteArchiveGzip(t *testing.T) {
	spec := testSpec()
	spec.Gzip = true
	var buf bytes.Buffer
	built, err := WriteArchive(&buf, spec)
	if err != nil {
		t.Fatal(err)
	}
	files, _, _ := readTar(t, buf.Bytes())
	var cfg Config
	mustJSON(t, files[blobPath(built.Config.Digest)], &cfg)
	for i, l := range built.Layers {
		if l.MediaType != MediaTypeOCILayerGzip {
			t.Errorf("layer %d media type = %s", i, l.MediaType)
		}
		zr, err := gzip.NewReader(bytes.NewReader(files[blobPath(l.Digest)]))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		if Digest(raw) != cfg.RootFS.DiffIDs[i] || l.Digest == cfg.RootFS.DiffIDs[i] {
			t.Errorf("layer %d: diff ID %s, uncompressed %s, compressed %s", i, cfg.RootFS.DiffIDs[i], Digest(raw), l.Digest)
		}
	}
}
