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

// TestBenchSchedulerCommand runs `skiff bench scheduler` reduced (100
// hollow nodes, 300 measured pods) against real child processes and
// checks that every scenario bound all its pods and the tables are whole.
// The throughput targets are not asserted: the machine may be busy.
func TestBenchSchedulerCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and 100 hollow nodes")
	}
	t.Setenv(childEnv, "1")
	var stdout, stderr bytes.Buffer
	root := cli.NewRoot(&stdout, &stderr)
	root.SetArgs([]string{"bench", "scheduler", "--nodes", "100", "--init-pods", "100", "--pods", "300",
		"--anti-affinity-pods", "50", "--spread-pods", "100", "--workers", "16", "--seed", "1", "--timeout", "2m"})
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
	want := map[string]int{"basic": 300, "backlog": 300, "pod": 50, "topology": 100}
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
	for _, want := range []string{"| server (API server + etcd) | ", "| scheduler (bench process", "| 100 hollow nodes (skiff sim) | ", "- basic: "} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}
}
