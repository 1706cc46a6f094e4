package containerd

import (
	"fmt"
	"path/filepath"
	"strings"
)

// PauseImage is the sandbox ("pause") image Skiff builds and imports
// itself; containerd's CRI plugin uses it for every pod sandbox, so no
// registry is contacted to start a pod.
const PauseImage = "registry.skiff.local/pause:3.10"

// Snapshotter names.
const (
	SnapshotterOverlay = "overlayfs"
	SnapshotterNative  = "native"
)

// Config is what goes into containerd's configuration file. Paths are
// absolute.
type Config struct {
	// Root holds persistent data (content, snapshots, metadata).
	Root string
	// State holds runtime state (shim bundles, runc state, fifos).
	State string
	// Address is the gRPC (and CRI) unix socket.
	Address string
	// SandboxImage is the pause image of every sandbox.
	SandboxImage string
	// Snapshotter is SnapshotterOverlay or SnapshotterNative.
	Snapshotter string
	// CNIBinDir holds the CNI plugin binaries; CNIConfDir the conflist.
	CNIBinDir  string
	CNIConfDir string
	// OptDir is where the opt plugin would install binaries.
	OptDir string
	// RestrictOOMScoreAdj keeps containers' oom_score_adj at or above
	// containerd's own (needed without CAP_SYS_RESOURCE).
	RestrictOOMScoreAdj bool
}

// disabledPlugins are plugins Skiff never uses; disabling them keeps
// start-up quick and the log quiet. Unknown IDs are ignored by containerd.
func disabledPlugins() []string {
	return []string{
		"io.containerd.snapshotter.v1.aufs",
		"io.containerd.snapshotter.v1.btrfs",
		"io.containerd.snapshotter.v1.devmapper",
		"io.containerd.snapshotter.v1.zfs",
		"io.containerd.tracing.processor.v1.otlp",
		"io.containerd.internal.v1.tracing",
	}
}

// DefaultConfig lays every path out under dir (e.g. <data>/containerd).
func DefaultConfig(dir string) Config {
	return Config{
		Root:         filepath.Join(dir, "root"),
		State:        filepath.Join(dir, "state"),
		Address:      filepath.Join(dir, "containerd.sock"),
		SandboxImage: PauseImage,
		Snapshotter:  SnapshotterOverlay,
		CNIBinDir:    "/usr/lib/cni",
		CNIConfDir:   filepath.Join(dir, "cni", "net.d"),
		OptDir:       filepath.Join(dir, "opt"),
	}
}

// maxSocketPath is the longest unix socket path Linux accepts
// (sizeof(sun_path) - 1).
const maxSocketPath = 107

// Validate reports a configuration containerd could not use.
func (c Config) Validate() error {
	for name, p := range map[string]string{
		"root": c.Root, "state": c.State, "address": c.Address,
		"CNI bin dir": c.CNIBinDir, "CNI conf dir": c.CNIConfDir, "opt dir": c.OptDir,
	} {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("containerd config: %s %q is not an absolute path", name, p)
		}
	}
	if len(c.Address) > maxSocketPath {
		return fmt.Errorf("containerd config: socket path %q is %d bytes, longer than the %d a unix socket allows; use a shorter data dir",
			c.Address, len(c.Address), maxSocketPath)
	}
	if c.Snapshotter != SnapshotterOverlay && c.Snapshotter != SnapshotterNative {
		return fmt.Errorf("containerd config: unknown snapshotter %q", c.Snapshotter)
	}
	if c.SandboxImage == "" {
		return fmt.Errorf("containerd config: no sandbox image")
	}
	return nil
}

// Render returns the configuration file (version 2 format, as containerd
// 1.6 and 1.7 read it).
func (c Config) Render() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	const cri = `plugins."io.containerd.grpc.v1.cri"`
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Written by Skiff; regenerated on every start.")
	w("version = 2")
	w("root = %s", quote(c.Root))
	w("state = %s", quote(c.State))
	w("disabled_plugins = [%s]", quoteList(disabledPlugins()))
	w("")
	w("[grpc]")
	w("  address = %s", quote(c.Address))
	w("")
	w("[ttrpc]")
	w("  address = %s", quote(c.Address+".ttrpc"))
	w("")
	w(`[plugins."io.containerd.internal.v1.opt"]`)
	w("  path = %s", quote(c.OptDir))
	w("")
	w("[%s]", cri)
	w("  sandbox_image = %s", quote(c.SandboxImage))
	w(`  stream_server_address = "127.0.0.1"`)
	w(`  stream_server_port = "0"`)
	w("  enable_selinux = false")
	w("  disable_tcp_service = true")
	w("  enable_unprivileged_ports = true")
	w("  enable_unprivileged_icmp = true")
	w("  restrict_oom_score_adj = %t", c.RestrictOOMScoreAdj)
	w("")
	w("[%s.containerd]", cri)
	w("  snapshotter = %s", quote(c.Snapshotter))
	w(`  default_runtime_name = "runc"`)
	w("")
	w("[%s.containerd.runtimes.runc]", cri)
	w(`  runtime_type = "io.containerd.runc.v2"`)
	w("")
	w("[%s.containerd.runtimes.runc.options]", cri)
	w("  SystemdCgroup = false")
	w("  Root = %s", quote(filepath.Join(c.State, "runc")))
	w("")
	w("[%s.cni]", cri)
	w("  bin_dir = %s", quote(c.CNIBinDir))
	w("  conf_dir = %s", quote(c.CNIConfDir))
	w("  max_conf_num = 1")
	return []byte(b.String()), nil
}

// quote renders s as a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}
