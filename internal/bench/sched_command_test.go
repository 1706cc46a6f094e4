package bench_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/cli"
)

// TestBenchSchedulerCommand runs `skiff bench scheduler` reduced (200
// hollow nodes, 1,000 measured pods) against real child processes and
// checks that every scenario bound all its pods and the tables are whole.
// The throughput targets are not asserted: the machine may be busy.
func TestBenchSchedulerCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and 200 hollow nodes")
	}
	t.Setenv(childEnv, "1")
	var stdout, stderr bytes.Buffer
	root := cli.NewRoot(&stdout, &stderr)
	root.SetArgs([]string{"bench", "scheduler", "--nodes", "200", "--init-pods", "200", "--pods", "1000",
		"--anti-affinity-pods", "100", "--spread-pods", "300", "--workers", "16", "--seed", "1", "--timeout", "2m"})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("bench scheduler: %v\nprogress:\n%s", err, stderr.String())
	}
	t.Logf("progress:\n%s\ntable:\n%s", stderr.String(), stdout.String())
	rows := map[string][]string{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) == 8 {
			rows[strings.Fields(cells[0])[0]] = cells
		}
	}
	want := map[string]int{"basic": 1000, "backlog": 1000, "pod": 100, "topology": 300}
	for first, measured := range want {
		cells, ok := rows[first]
		if !ok {
			t.Errorf("no %q row in\n%s", first, stdout.String())
			continue
		}
		if cells[2] != strconv.Itoa(measured) {
			t.Errorf("%s: measured %s pods, want %d", first, cells[2], measured)
		}
		if v := cells[3]; v == "0/s" || !strings.HasSuffix(v, "/s") {
			t.Errorf("%s: no throughput: %q", first, v)
		}
		if v := cells[7]; v != "pass" && v != "**fail**" && v != "below" {
			t.Errorf("%s: verdict %q", first, v)
		}
	}
	for _, want := range []string{"| server (API server + etcd) | ", "| scheduler (bench process", "| 200 hollow nodes (skiff sim) | ", "- basic: "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}
}
