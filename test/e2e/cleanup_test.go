package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestAgentCleanup: `skiff agent --cleanup` removes the service proxy's
// and the node's nftables tables from the network namespace it runs in.
func TestAgentCleanup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := "skiff-cleanup-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace: %v: %s", err, out)
	}
	defer exec.Command("ip", "netns", "del", ns).Run() //nolint:errcheck // best effort
	inNS := func(argv ...string) (string, error) {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...).CombinedOutput()
		return string(out), err
	}
	// What an agent leaves: the proxy's table and the masquerading table.
	script := "add table inet skiff-proxy\nadd chain inet skiff-proxy services\nadd table ip skiff-masq\nadd table ip6 skiff-masq\n"
	cmd := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("loading tables: %v: %s", err, out)
	}
	if out, err := inNS(suite.binary, "agent", "--cleanup"); err != nil {
		t.Fatalf("skiff agent --cleanup: %v\n%s", err, out)
	}
	out, err := inNS("nft", "list", "tables")
	if err != nil {
		t.Fatalf("nft list tables: %v: %s", err, out)
	}
	if strings.Contains(out, "skiff-") {
		t.Errorf("tables left after cleanup:\n%s", out)
	}
}
