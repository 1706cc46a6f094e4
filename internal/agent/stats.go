package agent

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// HostStats measures the host the agent runs on: memory from the root
// memory cgroup (usage less inactive file pages, as upstream's working
// set) or /proc/meminfo, the filesystems of DataDir (nodefs) and
// ImageFSDir (imagefs, nodefs when empty) with statfs, and PIDs from
// kernel.pid_max and the number of tasks. It does not know per-pod
// usage.
type HostStats struct {
	DataDir    string
	ImageFSDir string
	// ProcRoot and CgroupRoot are /proc and /sys/fs/cgroup when empty.
	ProcRoot   string
	CgroupRoot string
}

var _ StatsSource = HostStats{}

// NewHostStats measures the host for an agent with the given data
// directory and image filesystem directory (e.g. containerd's root).
func NewHostStats(dataDir, imageFSDir string) HostStats {
	return HostStats{DataDir: dataDir, ImageFSDir: imageFSDir}
}

// NodeStats implements StatsSource.
func (h HostStats) NodeStats(context.Context) (NodeStats, error) {
	proc, cg := h.ProcRoot, h.CgroupRoot
	if proc == "" {
		proc = "/proc"
	}
	if cg == "" {
		cg = "/sys/fs/cgroup"
	}
	var s NodeStats
	var err error
	if s.Memory, err = memoryAmount(proc, cg); err != nil {
		return s, err
	}
	if s.NodeFS, err = fsAmount(h.DataDir); err != nil {
		return s, err
	}
	s.ImageFS = s.NodeFS
	if h.ImageFSDir != "" {
		if s.ImageFS, err = fsAmount(h.ImageFSDir); err != nil {
			return s, err
		}
	}
	if s.PIDs, err = pidAmount(proc); err != nil {
		return s, err
	}
	return s, nil
}

// memoryAmount is the node's memory: capacity MemTotal, available
// capacity less the root cgroup's working set (cgroup v1), else
// MemAvailable.
func memoryAmount(proc, cg string) (Amount, error) {
	info, err := readKeyValues(filepath.Join(proc, "meminfo"), 1024)
	if err != nil {
		return Amount{}, fmt.Errorf("reading meminfo: %w", err)
	}
	capacity, avail := info["MemTotal"], info["MemAvailable"]
	if usage, err := readInt(filepath.Join(cg, "memory", "memory.usage_in_bytes")); err == nil {
		stat, err := readKeyValues(filepath.Join(cg, "memory", "memory.stat"), 1)
		if err == nil {
			ws := max(usage-stat["total_inactive_file"], 0)
			avail = max(capacity-ws, 0)
		}
	}
	return Amount{Available: avail, Capacity: capacity}, nil
}

// fsAmount is what is available to unprivileged users of dir's
// filesystem.
func fsAmount(dir string) (Amount, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return Amount{}, fmt.Errorf("statfs %s: %w", dir, err)
	}
	bs := int64(st.Bsize)
	return Amount{Available: int64(st.Bavail) * bs, Capacity: int64(st.Blocks) * bs}, nil
}

// pidAmount is kernel.pid_max less the tasks that exist (the fourth
// field of /proc/loadavg, "running/total").
func pidAmount(proc string) (Amount, error) {
	pidMax, err := readInt(filepath.Join(proc, "sys", "kernel", "pid_max"))
	if err != nil {
		return Amount{}, err
	}
	data, err := os.ReadFile(filepath.Join(proc, "loadavg"))
	if err != nil {
		return Amount{}, err
	}
	fields := strings.Fields(string(data))
	if len(fields) < 4 {
		return Amount{}, fmt.Errorf("unexpected loadavg %q", data)
	}
	_, total, _ := strings.Cut(fields[3], "/")
	n, err := strconv.ParseInt(total, 10, 64)
	if err != nil {
		return Amount{}, fmt.Errorf("unexpected loadavg %q", data)
	}
	return Amount{Available: pidMax - n, Capacity: pidMax}, nil
}

func readInt(path string) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
}

// readKeyValues reads "key value [unit]" lines, multiplying values by
// unit (1024 for meminfo's kB).
func readKeyValues(path string, unit int64) (map[string]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		n, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		out[strings.TrimSuffix(fields[0], ":")] = n * unit
	}
	return out, sc.Err()
}
