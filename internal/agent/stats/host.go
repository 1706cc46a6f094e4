package stats

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc/stat's CPU times (USER_HZ, 100 on Linux).
const userHZ = 100

// hostMemory is the node's memory use.
type hostMemory struct {
	total, usage, workingSet, rss uint64
}

// hostCPUTime is the CPU time every core has spent busy since boot, in
// nanoseconds: the root cpuacct cgroup's usage (v1), else /proc/stat.
func hostCPUTime(proc, cg string) (uint64, error) {
	for _, dir := range []string{"cpuacct", "cpu,cpuacct"} {
		if v, err := readUint(filepath.Join(cg, dir, "cpuacct.usage")); err == nil {
			return v, nil
		}
	}
	data, err := os.ReadFile(filepath.Join(proc, "stat"))
	if err != nil {
		return 0, fmt.Errorf("reading CPU time: %w", err)
	}
	return procStatBusy(string(data))
}

// procStatBusy sums the busy fields of /proc/stat's "cpu" line (user,
// nice, system, irq, softirq, steal) in nanoseconds.
func procStatBusy(stat string) (uint64, error) {
	line, _, _ := strings.Cut(stat, "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var ticks uint64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		n, err := strconv.ParseUint(fields[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected /proc/stat line %q", line)
		}
		ticks += n
	}
	return ticks * uint64(time.Second/userHZ), nil
}

// hostMemoryUse reads MemTotal and the root memory cgroup (v1): usage,
// working set (usage less inactive file pages) and RSS. Without the
// cgroup, the working set is MemTotal less MemAvailable.
func hostMemoryUse(proc, cg string) (hostMemory, error) {
	info, err := readKeyValues(filepath.Join(proc, "meminfo"))
	if err != nil {
		return hostMemory{}, fmt.Errorf("reading meminfo: %w", err)
	}
	m := hostMemory{total: info["MemTotal"] * 1024}
	usage, err := readUint(filepath.Join(cg, "memory", "memory.usage_in_bytes"))
	if err != nil {
		avail := info["MemAvailable"] * 1024
		m.workingSet = m.total - min(avail, m.total)
		m.usage = m.workingSet
		m.rss = m.workingSet - min(m.workingSet, (info["Active(file)"]+info["Inactive(file)"])*1024)
		return m, nil
	}
	stat, err := readKeyValues(filepath.Join(cg, "memory", "memory.stat"))
	if err != nil {
		return hostMemory{}, fmt.Errorf("reading memory cgroup: %w", err)
	}
	m.usage = usage
	m.workingSet = usage - min(stat["total_inactive_file"], usage)
	m.rss = stat["total_rss"]
	return m, nil
}

func readUint(path string) (uint64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
}

// readKeyValues reads "key[:] value ..." lines; lines without a number
// are skipped.
func readKeyValues(path string) (map[string]uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		if n, err := strconv.ParseUint(fields[1], 10, 64); err == nil {
			out[strings.TrimSuffix(fields[0], ":")] = n
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return out, nil
}
