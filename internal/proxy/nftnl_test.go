package proxy

import (
	"context"
	"math/bits"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/yaml"

	"github.com/skiffkube/skiff/internal/proxy/rules"
)

// TestNetlinkMatchesNFT loads every golden rule set of the rules package
// with the netlink applier into one namespace and with `nft -f` into
// another, and checks that the kernel lists the same table: the netlink
// applier generates the bytecode nft does. It then walks the goldens as
// incremental transitions and compares again after each.
func TestNetlinkMatchesNFT(t *testing.T) {
	viaNL := newTestNetns(t, ModeNFTables)
	viaNFT := newTestNetns(t, ModeNFTables)
	ctx := context.Background()
	nl, tool := nlApplier{netns: viaNL.name}, nftApplier{cmd: commander{netns: viaNFT.name}}
	goldens, _ := filepath.Glob(filepath.Join("rules", "testdata", "*.yaml"))
	if len(goldens) < 5 {
		t.Fatalf("found %d golden inputs", len(goldens))
	}
	var prev *rules.RuleSet
	for _, g := range goldens {
		rs := rules.Compute(loadGoldenInput(t, g))
		t.Run("full/"+filepath.Base(g), func(t *testing.T) {
			if err := nl.apply(ctx, nil, rs); err != nil {
				t.Fatal(err)
			}
			if err := tool.apply(ctx, nil, rs); err != nil {
				t.Fatal(err)
			}
			compareTables(t, viaNFT, viaNL)
		})
		if prev != nil {
			t.Run("diff/"+filepath.Base(g), func(t *testing.T) {
				if err := nl.apply(ctx, nil, prev); err != nil {
					t.Fatal(err)
				}
				if err := nl.apply(ctx, prev, rs); err != nil {
					t.Fatal(err)
				}
				compareTables(t, viaNFT, viaNL)
			})
		}
		prev = rs
	}
}

// compareTables fails unless both namespaces list the same table.
func compareTables(t *testing.T, want, got *testNetns) {
	t.Helper()
	w := normalizeTable(want.run(t, "nft", "list", "table", "inet", rules.TableName))
	g := normalizeTable(fixNumgenKeys(got.run(t, "nft", "list", "table", "inet", rules.TableName)))
	if w == g {
		return
	}
	wl, gl := strings.Split(w, "\n"), strings.Split(g, "\n")
	for _, l := range wl {
		if !slices.Contains(gl, l) {
			t.Errorf("missing from the netlink table: %s", l)
		}
	}
	for _, l := range gl {
		if !slices.Contains(wl, l) {
			t.Errorf("extra in the netlink table:     %s", l)
		}
	}
}

// fixNumgenKeys undoes a difference of display only: google/nftables
// marks every constant set's keys big-endian in the set's user data, so
// nft prints the host-order numgen keys of the anonymous maps
// byte-swapped (1 as 16777216). The kernel ignores user data, and the
// key bytes are those nft writes.
func fixNumgenKeys(s string) string {
	re := regexp.MustCompile(`([{,] )(\d+)( : goto )`)
	return re.ReplaceAllStringFunc(s, func(m string) string {
		p := re.FindStringSubmatch(m)
		n, err := strconv.ParseUint(p[2], 10, 32)
		if err != nil {
			return m
		}
		return p[1] + strconv.FormatUint(uint64(bits.ReverseBytes32(uint32(n))), 10) + p[3]
	})
}

// normalizeTable sorts the lines of a listing and puts set elements one
// per line, since the kernel lists them in its own order.
func normalizeTable(s string) string {
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

// loadGoldenInput reads a rules golden input: a TestInput document, then
// Services and EndpointSlices.
func loadGoldenInput(t *testing.T, path string) rules.Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in rules.Input
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		var head struct {
			Kind        string   `json:"kind"`
			NodeName    string   `json:"nodeName"`
			NodeIPs     []string `json:"nodeIPs"`
			ClusterCIDR string   `json:"clusterCIDR"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var obj any
		switch head.Kind {
		case "":
			continue
		case "TestInput":
			in.NodeName, in.ClusterCIDR = head.NodeName, head.ClusterCIDR
			for _, s := range head.NodeIPs {
				in.NodeIPs = append(in.NodeIPs, net.ParseIP(s))
			}
			continue
		case "Service":
			svc := &corev1.Service{}
			in.Services, obj = append(in.Services, svc), svc
		case "EndpointSlice":
			s := &discoveryv1.EndpointSlice{}
			in.Slices, obj = append(in.Slices, s), s
		default:
			t.Fatalf("%s: unknown kind %q", path, head.Kind)
		}
		if err := yaml.Unmarshal([]byte(doc), obj); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return in
}
