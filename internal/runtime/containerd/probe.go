package containerd

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ProbeSnapshotter returns SnapshotterOverlay if an overlay filesystem can
// be mounted under dir (it cannot on some filesystems, e.g. overlay on
// overlay, or without privileges), else SnapshotterNative.
func ProbeSnapshotter(dir string) string {
	if err := probeOverlay(dir); err != nil {
		return SnapshotterNative
	}
	return SnapshotterOverlay
}

func probeOverlay(dir string) error {
	base, err := os.MkdirTemp(dir, "overlay-probe-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(base)
	paths := map[string]string{}
	for _, name := range []string{"lower", "upper", "work", "merged"} {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			return err
		}
		paths[name] = p
	}
	opts := "lowerdir=" + paths["lower"] + ",upperdir=" + paths["upper"] + ",workdir=" + paths["work"]
	if err := syscall.Mount("overlay", paths["merged"], "overlay", 0, opts); err != nil {
		return err
	}
	return syscall.Unmount(paths["merged"], 0)
}

// capSysResource is the bit of CAP_SYS_RESOURCE in /proc/self/status's
// CapEff mask.
const capSysResource = 24

// CanLowerOOMScore reports whether this process may set a negative
// oom_score_adj (it needs CAP_SYS_RESOURCE). Without it, runc fails to
// start sandboxes, whose score the CRI plugin sets to -998, so containerd
// must be told to restrict scores to its own.
func CanLowerOOMScore() bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	return hasCap(string(data), capSysResource)
}

// hasCap reads the CapEff line of a /proc/<pid>/status text.
func hasCap(status string, bit uint) bool {
	for _, line := range strings.Split(status, "\n") {
		hexMask, ok := strings.CutPrefix(line, "CapEff:")
		if !ok {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(hexMask), 16, 64)
		return err == nil && mask&(1<<bit) != 0
	}
	return false
}
