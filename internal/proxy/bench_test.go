package proxy

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestBench runs a small benchmark in a temporary namespace and checks
// the table.
func TestBench(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root")
	}
	for _, tool := range []string{"ip", "nft", "iptables-restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("kernel test: %s not installed", tool)
		}
	}
	var out bytes.Buffer
	res, err := Bench(context.Background(), BenchConfig{Services: []int{50}, Endpoints: 3, Updates: 3,
		Modes: []Mode{ModeNFTables, ModeIPTables}}, &out)
	if err != nil {
		t.Fatal(err)
	}
	// nftables: about one chain per Service; iptables: one per endpoint too
	if len(res) != 2 || res[0].Chains < 50 || res[0].Chains > 50*2 || res[1].Chains < 50*4 ||
		res[0].UpdateP50 <= 0 || res[1].Program <= 0 ||
		res[0].DirectLatency <= 0 || res[0].VIPLatency <= 0 || res[1].VIPLatency <= 0 {
		t.Errorf("results %+v", res)
	}
	if lines := strings.Count(out.String(), "\n"); lines != 4 || !strings.Contains(out.String(), "| nftables | 50 | 3 |") {
		t.Errorf("table:\n%s", out.String())
	}
}

// TestBenchFull runs the full benchmark (nftables over netlink and with
// the nft tool, 1,000 and 10,000 Services × 5 endpoints, 100 updates;
// iptables with 1,000) when SKIFF_PROXY_BENCH is set, logging the tables.
func TestBenchFull(t *testing.T) {
	if os.Getenv("SKIFF_PROXY_BENCH") == "" {
		t.Skip("set SKIFF_PROXY_BENCH=1 to run the full proxy benchmark")
	}
	var out bytes.Buffer
	if _, err := Bench(context.Background(), BenchConfig{Modes: []Mode{ModeNFTables, modeNFTablesTool}, Updates: 100}, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := Bench(context.Background(), BenchConfig{Modes: []Mode{ModeIPTables}, Services: []int{1000}}, &out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
}
