package image

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime/containerd"
)

func TestNormalizeRef(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                          "docker.io/library/busybox:latest",
		"busybox:1.35":                     "docker.io/library/busybox:1.35",
		"user/app":                         "docker.io/user/app:latest",
		"registry.skiff.local/pause:3.10":  "registry.skiff.local/pause:3.10",
		"localhost/x":                      "localhost/x:latest",
		"localhost:5000/x":                 "localhost:5000/x:latest",
		"docker.io/library/busybox:latest": "docker.io/library/busybox:latest",
		"quay.io/a/b@sha256:0123":          "quay.io/a/b@sha256:0123",
	} {
		if got := NormalizeRef(in); got != want {
			t.Errorf("NormalizeRef(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSnapshotterFromCRIConfig(t *testing.T) {
	tests := map[string]string{
		`{"containerd":{"snapshotter":"native","defaultRuntimeName":"runc"}}`: "native",
		`{"containerd":{}}`: "",
		`not json`:          "",
	}
	for in, want := range tests {
		if got := snapshotterFromCRIConfig(in); got != want {
			t.Errorf("snapshotterFromCRIConfig(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestBuildAndImport builds the real images and imports them into a
// containerd started for the test.
func TestBuildAndImport(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Go binaries; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run containerd")
	}
	if _, err := exec.LookPath("containerd"); err != nil {
		t.Skip("containerd is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out := t.TempDir()
	paths, err := BuildAll(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	wantPaths := []string{filepath.Join(out, "busybox.tar"), filepath.Join(out, "pause.tar"), filepath.Join(out, "skiff-test.tar")}
	if !reflect.DeepEqual(paths, wantPaths) {
		t.Fatalf("paths = %v, want %v", paths, wantPaths)
	}

	dir, err := os.MkdirTemp("", "skiff-ctr-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	mctx, stop := context.WithCancel(ctx)
	m, err := containerd.NewManager(containerd.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(mctx); err != nil {
		t.Fatal(err)
	}
	defer func() { stop(); <-m.Done() }()

	refs, err := ImportDir(ctx, m.Socket(), out)
	if err != nil {
		t.Fatal(err)
	}
	wantRefs := []string{BusyboxImage, BusyboxLatest, PauseImage, TestImage}
	if !reflect.DeepEqual(refs, wantRefs) {
		t.Fatalf("refs = %v, want %v", refs, wantRefs)
	}
	// Importing again is a no-op that succeeds.
	if _, err := Import(ctx, m.Socket(), paths[1]); err != nil {
		t.Fatalf("re-import: %v", err)
	}
	// A gzip-compressed, multi-layer image from elsewhere imports too.
	gz := filepath.Join(t.TempDir(), "gz.tar")
	spec := testSpec()
	spec.Gzip = true
	spec.Names = []string{"example.com/gz:1"}
	if err := writeArchiveFile(gz, spec); err != nil {
		t.Fatal(err)
	}
	if refs, err := Import(ctx, m.Socket(), gz); err != nil || len(refs) != 1 || refs[0] != "example.com/gz:1" {
		t.Fatalf("import gzip image: %v, %v", refs, err)
	}
	cc, err := grpc.NewClient("unix://"+m.Socket(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	img, err := runtimeapi.NewImageServiceClient(cc).ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: "busybox"}})
	if err != nil || img.GetImage() == nil {
		t.Fatalf("CRI image status of busybox: %v %v", img, err)
	}
	if got := img.GetImage().GetRepoTags(); len(got) != 2 {
		t.Errorf("busybox tags = %v, want both names", got)
	}
}
