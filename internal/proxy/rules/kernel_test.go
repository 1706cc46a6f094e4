package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// nftInNetns returns a function that loads scripts, in order, into the
// nftables of a new network namespace and returns the normalized listing
// of the table. It skips the test unless run as root with nft installed.
func nftInNetns(t *testing.T) func(t *testing.T, scripts ...string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft not installed")
	}
	if err := exec.Command("unshare", "-n", "true").Run(); err != nil {
		t.Skipf("cannot create a network namespace: %v", err)
	}
	return func(t *testing.T, scripts ...string) string {
		t.Helper()
		dir := t.TempDir()
		var cmds []string
		for i, s := range scripts {
			path := filepath.Join(dir, "script"+string(rune('a'+i))+".nft")
			if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
				t.Fatal(err)
			}
			cmds = append(cmds, "nft -f "+path)
		}
		cmds = append(cmds, "nft list table inet skiff-proxy")
		out, err := exec.Command("unshare", "-n", "sh", "-ec", strings.Join(cmds, "\n")).CombinedOutput()
		if err != nil {
			t.Fatalf("nft: %v\n%s", err, out)
		}
		return normalizeListing(string(out))
	}
}

// normalizeListing sorts the lines of an `nft list` output and splits set
// elements one per line, since the kernel lists them in its own order.
func normalizeListing(s string) string {
	var lines []string
	inElements := false
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, "elements = { "); ok {
			inElements, l = true, rest
		}
		if !inElements {
			lines = append(lines, l)
			continue
		}
		if strings.HasSuffix(l, " }") {
			inElements, l = false, strings.TrimSuffix(l, " }")
		}
		for _, e := range strings.Split(strings.TrimSuffix(l, ","), ", ") {
			lines = append(lines, "element "+e)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestKernelAcceptsGoldens loads every golden script into the kernel.
func TestKernelAcceptsGoldens(t *testing.T) {
	run := nftInNetns(t)
	goldens, _ := filepath.Glob(filepath.Join("testdata", "*.nft"))
	for _, g := range goldens {
		data, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		if got := run(t, string(data)); !strings.Contains(got, "chain services {") {
			t.Errorf("%s: table lacks the services chain:\n%s", g, got)
		}
	}
}

// TestKernelAppliesChanges checks that old + Changes.NFT() leaves the
// kernel with the same table as loading new from scratch.
func TestKernelAppliesChanges(t *testing.T) {
	run := nftInNetns(t)
	cases := map[string][2]func(*Input){
		"endpoint removed": {nil, func(in *Input) { in.Slices[1].Endpoints = in.Slices[1].Endpoints[:1] }},
		"service emptied":  {nil, func(in *Input) { in.Slices[0].Endpoints = nil }},
		"service deleted":  {nil, func(in *Input) { in.Services = in.Services[1:] }},
		"affinity timeout": {
			func(in *Input) { setAffinity(in, 60) },
			func(in *Input) { setAffinity(in, 90); in.Slices[1].Endpoints = in.Slices[1].Endpoints[:1] },
		},
		"affinity off": {func(in *Input) { setAffinity(in, 60) }, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			old, new := Compute(smallInput(c[0])), Compute(smallInput(c[1]))
			got := run(t, old.NFT(), Diff(old, new).NFT())
			if want := run(t, new.NFT()); got != want {
				t.Errorf("kernel tables differ:\n%s", lineDiff(want, got))
			}
		})
	}
}

// TestKernelGoldenTransitions moves the kernel from each golden input to
// the next (and from nothing to the first) by Changes alone.
func TestKernelGoldenTransitions(t *testing.T) {
	run := nftInNetns(t)
	inputs, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	sets := make([]*RuleSet, len(inputs))
	for i, in := range inputs {
		sets[i] = Compute(loadInput(t, in))
	}
	got := run(t, "add table inet skiff-proxy\n", Diff(nil, sets[0]).NFT())
	if want := run(t, sets[0].NFT()); got != want {
		t.Errorf("from nothing to %s:\n%s", inputs[0], lineDiff(want, got))
	}
	for i := range sets {
		from, to := sets[i], sets[(i+1)%len(sets)]
		got := run(t, from.NFT(), Diff(from, to).NFT())
		if want := run(t, to.NFT()); got != want {
			t.Errorf("from %s to %s:\n%s", inputs[i], inputs[(i+1)%len(sets)], lineDiff(want, got))
		}
	}
}
