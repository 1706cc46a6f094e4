package image

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"

	"github.com/skiffkube/skiff/internal/runtime/containerd"
)

// The images Skiff builds.
const (
	PauseImage     = containerd.PauseImage
	BusyboxImage   = "registry.skiff.local/busybox:1.35"
	BusyboxLatest  = "docker.io/library/busybox:latest"
	TestImage      = "registry.skiff.local/skiff-test:1"
	modulePath     = "github.com/skiffkube/skiff"
	defaultPath    = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	defaultBusybox = "/bin/busybox"
)

// BuildOptions tune BuildAll; the zero value builds from the module that
// contains the working directory with the go tool on PATH and the host's
// /bin/busybox (Debian's busybox-static).
type BuildOptions struct {
	// ModuleDir is the root of the Skiff source tree.
	ModuleDir string
	// GoTool is the go command.
	GoTool string
	// Busybox is a statically linked busybox binary.
	Busybox string
	// Arch is the target GOARCH; "" is the running one.
	Arch string
}

// BuildAll builds the pause, busybox and skiff-test images and writes
// them as <outDir>/<name>.tar (OCI layout archives). It returns the paths
// written.
func BuildAll(ctx context.Context, outDir string) ([]string, error) {
	return Build(ctx, outDir, BuildOptions{})
}

// Build is BuildAll with options.
func Build(ctx context.Context, outDir string, opts BuildOptions) ([]string, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("image build: %w", err)
	}
	binDir, err := os.MkdirTemp(outDir, ".bin-")
	if err != nil {
		return nil, fmt.Errorf("image build: %w", err)
	}
	defer os.RemoveAll(binDir)
	pause, err := goBuild(ctx, opts, binDir, "test/images/pause")
	if err != nil {
		return nil, err
	}
	server, err := goBuild(ctx, opts, binDir, "test/images/testserver")
	if err != nil {
		return nil, err
	}
	busybox, err := BusyboxLayer(ctx, opts.Busybox)
	if err != nil {
		return nil, err
	}
	specs := map[string]Spec{
		"pause": {
			Names:  []string{PauseImage},
			Layers: [][]File{append(baseFiles(), File{Path: "/pause", Mode: 0o755, Data: pause})},
			Config: ContainerConfig{Entrypoint: []string{"/pause"}, Env: []string{defaultPath}},
		},
		"busybox": {
			Names:  []string{BusyboxImage, BusyboxLatest},
			Layers: [][]File{append(baseFiles(), busybox...)},
			Config: ContainerConfig{Cmd: []string{"sh"}, Env: []string{defaultPath}},
		},
		"skiff-test": {
			Names: []string{TestImage},
			Layers: [][]File{
				append(baseFiles(), busybox...),
				{{Path: "/testserver", Mode: 0o755, Data: server}},
			},
			Config: ContainerConfig{
				Entrypoint:   []string{"/testserver"},
				Env:          []string{defaultPath},
				ExposedPorts: map[string]struct{}{"8080/tcp": {}},
			},
		},
	}
	var paths []string
	for _, name := range sortedKeys(specs) {
		spec := specs[name]
		spec.Architecture, spec.OS = opts.Arch, "linux"
		p := filepath.Join(outDir, name+".tar")
		if err := writeArchiveFile(p, spec); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

func (o BuildOptions) withDefaults() (BuildOptions, error) {
	if o.GoTool == "" {
		o.GoTool = "go"
	}
	if o.Busybox == "" {
		o.Busybox = defaultBusybox
	}
	if o.Arch == "" {
		o.Arch = goruntime.GOARCH
	}
	if o.ModuleDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return o, fmt.Errorf("image build: %w", err)
		}
		dir, err := findModule(wd)
		if err != nil {
			return o, err
		}
		o.ModuleDir = dir
	}
	return o, nil
}

// findModule walks up from dir to Skiff's go.mod.
func findModule(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module "+modulePath+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("image build: no %s source tree above %s", modulePath, dir)
		}
	}
}

// goBuild compiles a static binary of pkg (relative to the module root)
// and returns its bytes.
func goBuild(ctx context.Context, opts BuildOptions, binDir, pkg string) ([]byte, error) {
	out := filepath.Join(binDir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, opts.GoTool, "build", "-trimpath", "-ldflags=-s -w", "-o", out, "./"+pkg)
	cmd.Dir = opts.ModuleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+opts.Arch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("image build: go build %s: %w\n%s", pkg, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("image build: %w", err)
	}
	return data, nil
}

// BusyboxLayer returns the busybox binary at path as /bin/busybox with a
// /bin symlink for every applet it lists.
func BusyboxLayer(ctx context.Context, path string) ([]File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("image build: %s not found (apt-get install busybox-static)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("image build: %w", err)
	}
	out, err := exec.CommandContext(ctx, path, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("image build: %s --list: %w", path, err)
	}
	files := []File{{Path: "/bin/busybox", Mode: 0o755, Data: data}}
	seen := map[string]bool{"busybox": true}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		applet := strings.TrimSpace(sc.Text())
		if applet == "" || strings.Contains(applet, "/") || seen[applet] {
			continue
		}
		seen[applet] = true
		files = append(files, File{Path: "/bin/" + applet, Mode: fs.ModeSymlink | 0o777, Link: "busybox"})
	}
	if len(files) < 10 {
		return nil, fmt.Errorf("image build: %s lists only %d applets; is it busybox?", path, len(files)-1)
	}
	return files, nil
}

// baseFiles are the files every image has: users, groups, /tmp.
func baseFiles() []File {
	return []File{
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{Path: "/root", Mode: fs.ModeDir | 0o700},
		{Path: "/tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
	}
}

func writeArchiveFile(path string, spec Spec) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".image-*")
	if err != nil {
		return fmt.Errorf("image build: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriterSize(tmp, 1<<20)
	if _, err := WriteArchive(w, spec); err != nil {
		tmp.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("image build: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("image build: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("image build: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("image build: %w", err)
	}
	return nil
}
