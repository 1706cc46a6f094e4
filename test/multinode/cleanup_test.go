package multinode

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/skiffkube/skiff/internal/node"
	"github.com/skiffkube/skiff/internal/runtime/cri"
)

// removeNodeState removes what a killed agent leaves on the machine:
// its pod sandboxes (through its still running containerd, so that CNI
// releases addresses and network namespaces), then containerd, stray
// shims and their children, mounts under the data directory, the
// directory itself.
func removeNodeState(dataDir string) error {
	var errs []error
	cdir := node.ContainerdDir(filepath.Join(dataDir, "agent"))
	if err := removeSandboxes("unix://" + filepath.Join(cdir, "containerd.sock")); err != nil {
		errs = append(errs, err)
	}
	if pid, err := readPID(filepath.Join(cdir, "containerd.pid")); err == nil {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		waitGone(pid, 10*time.Second)
	}
	killTree(dataDir)
	unmountUnder(dataDir)
	if err := os.RemoveAll(dataDir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// removeSandboxes stops and removes every pod sandbox of the containerd
// at endpoint.
func removeSandboxes(endpoint string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := os.Stat(strings.TrimPrefix(endpoint, "unix://")); err != nil {
		return nil // containerd never started
	}
	rt, err := cri.New(ctx, endpoint)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", endpoint, err)
	}
	defer rt.Close()
	boxes, err := rt.ListPodSandbox(ctx)
	if err != nil {
		return fmt.Errorf("listing sandboxes: %w", err)
	}
	var errs []error
	for _, b := range boxes {
		if err := rt.StopPodSandbox(ctx, b.ID); err != nil {
			errs = append(errs, fmt.Errorf("stopping sandbox %s: %w", b.ID, err))
		}
		if err := rt.RemovePodSandbox(ctx, b.ID); err != nil {
			errs = append(errs, fmt.Errorf("removing sandbox %s: %w", b.ID, err))
		}
	}
	return errors.Join(errs...)
}

func readPID(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// waitGone waits until pid no longer exists, at most timeout, then kills.
func waitGone(pid int, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// killTree kills every process whose command line mentions dir (a
// node's shims and containerd) and all their descendants (containers).
func killTree(dir string) {
	parent := map[int]int{}
	var roots []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			// pid (comm) state ppid ...: comm may hold spaces.
			if i := strings.LastIndexByte(string(stat), ')'); i > 0 {
				if f := strings.Fields(string(stat[i+1:])); len(f) > 1 {
					parent[pid], _ = strconv.Atoi(f[1])
				}
			}
		}
		if cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && strings.Contains(string(cmdline), dir) {
			roots = append(roots, pid)
		}
	}
	doomed := map[int]bool{}
	for _, r := range roots {
		doomed[r] = true
	}
	for changed := true; changed; {
		changed = false
		for pid, pp := range parent {
			if doomed[pp] && !doomed[pid] {
				doomed[pid], changed = true, true
			}
		}
	}
	for pid := range doomed {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for pid := range doomed {
		waitGone(pid, 5*time.Second)
	}
}

// unmountUnder detaches every mount below dir, deepest first.
func unmountUnder(dir string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var mounts []string
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], dir) {
			mounts = append(mounts, f[4])
		}
	}
	for i := len(mounts) - 1; i >= 0; i-- {
		_ = unix.Unmount(mounts[i], unix.MNT_DETACH)
	}
}
