package stats

import (
	"os"
	"path/filepath"
	"testing"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const meminfo = "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    600 kB\nActive(file):    100 kB\nInactive(file):  50 kB\n"

func TestHostMemoryUse(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  hostMemory
	}{{
		name: "cgroup v1 root",
		files: map[string]string{"proc/meminfo": meminfo, "cg/memory/memory.usage_in_bytes": "500000\n",
			"cg/memory/memory.stat": "cache 1\nrss 2\ntotal_rss 300000\ntotal_inactive_file 100000\n"},
		want: hostMemory{total: 1024000, usage: 500000, workingSet: 400000, rss: 300000},
	}, {
		name:  "meminfo only",
		files: map[string]string{"proc/meminfo": meminfo},
		want:  hostMemory{total: 1024000, usage: 409600, workingSet: 409600, rss: 409600 - 153600},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			got, err := hostMemoryUse(filepath.Join(root, "proc"), filepath.Join(root, "cg"))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHostCPUTime(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		want    uint64
		wantErr bool
	}{
		{name: "cpuacct", files: map[string]string{"cg/cpuacct/cpuacct.usage": "123456789\n", "proc/stat": "cpu 1 1 1 1 1 1 1 1 1 1\n"}, want: 123456789},
		{name: "cpu,cpuacct", files: map[string]string{"cg/cpu,cpuacct/cpuacct.usage": "42\n"}, want: 42},
		// user 100 + nice 2 + system 50 + irq 3 + softirq 4 + steal 1 ticks; idle and iowait are not busy.
		{name: "proc stat", files: map[string]string{"proc/stat": "cpu  100 2 50 9999 77 3 4 1 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n"}, want: 160 * 10_000_000},
		{name: "bad proc stat", files: map[string]string{"proc/stat": "intr 1 2 3\n"}, wantErr: true},
		{name: "nothing", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			got, err := hostCPUTime(filepath.Join(root, "proc"), filepath.Join(root, "cg"))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}
