package bench_test

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/skiffkube/skiff/internal/cli"
)

// TestBenchControllersCommand runs `skiff bench controllers` reduced (20
// hollow nodes, a 50-replica Deployment, 50 Jobs) against real child
// processes and checks that every phase finished and the table is whole.
func TestBenchControllersCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and 20 hollow nodes")
	}
	t.Setenv(childEnv, "1")
	var stdout, stderr bytes.Buffer
	root := cli.NewRoot(&stdout, &stderr)
	root.SetArgs([]string{"bench", "controllers", "--nodes", "20", "--replicas", "50", "--jobs", "50",
		"--workers", "8", "--timeout", "90s"})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("bench controllers: %v\nprogress:\n%s", err, stderr.String())
	}
	t.Logf("progress:\n%s\ntable:\n%s", stderr.String(), stdout.String())
	out := stdout.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\| 50-replica Deployment created → fully available \| \d+\.\d\d s \| \d+\.\d\d s \|`),
		regexp.MustCompile(`\| Rolling update of its template .* → 50 new pods available, old ones gone \| \d+\.\d\d s \| `),
		regexp.MustCompile(`\| Burst of 50 Jobs \(completions 1, containers run 1 s\) → all Complete \| \d+\.\d\d s \| `),
		regexp.MustCompile(`\| Server peak RSS \(VmHWM\) \| [1-9]\d* MB \|`),
		regexp.MustCompile(`\| Server CPU time, start to end .* \| – \| \d+\.\d\d s \|`),
	} {
		if !want.MatchString(out) {
			t.Errorf("table lacks %s:\n%s", want, out)
		}
	}
	// The Jobs' containers run a second: the burst cannot be faster.
	if m := regexp.MustCompile(`all Complete \| (\d+\.\d\d) s`).FindStringSubmatch(out); m != nil && strings.HasPrefix(m[1], "0.") {
		t.Errorf("jobs completed in %s s, faster than their containers run", m[1])
	}
}

// TestBenchAgentCommand runs `skiff bench agent` reduced (5 sequential
// pods, 3 at once) on real containerd; it needs root, containerd and runc.
func TestBenchAgentCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs containerd and real containers")
	}
	skipUnlessRootWith(t, "containerd", "runc")
	t.Setenv(childEnv, "1")
	var stdout, stderr bytes.Buffer
	root := cli.NewRoot(&stdout, &stderr)
	root.SetArgs([]string{"bench", "agent", "--sequential", "5", "--concurrent", "3", "--timeout", "60s"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatalf("bench agent: %v\nprogress:\n%s", err, stderr.String())
	}
	t.Logf("progress:\n%s\ntable:\n%s", stderr.String(), stdout.String())
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`\| Pod create→Running p50, 5 sequential pods \| [\d.]+ ms \| ≤ 500 ms \| (pass|\*\*fail\*\*) \|`),
		regexp.MustCompile(`\| 3 pods created at once, first create → all Running \| \d+\.\d\d s \|`),
		regexp.MustCompile(`\| [1-9]\d* MB \| ≤ 60 MB \|`),
	} {
		if !want.MatchString(stdout.String()) {
			t.Errorf("table lacks %s:\n%s", want, stdout.String())
		}
	}
}

// TestBenchProxyCommand runs `skiff bench proxy` with 100 Services; it
// needs root and nft.
func TestBenchProxyCommand(t *testing.T) {
	skipUnlessRootWith(t, "ip", "nft")
	var stdout, stderr bytes.Buffer
	root := cli.NewRoot(&stdout, &stderr)
	root.SetArgs([]string{"bench", "proxy", "--services", "100", "--endpoints", "2", "--updates", "3"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("bench proxy: %v", err)
	}
	if !regexp.MustCompile(`\| nftables \| 100 \| 2 \| \d+ \| [\d.]+ ms \|`).MatchString(stdout.String()) {
		t.Errorf("table:\n%s", stdout.String())
	}
}
