package rules

import (
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// update rewrites the golden files: go test ./internal/proxy/rules -update
var update = flag.Bool("update", false, "rewrite testdata/*.nft from the current output")

// testConfig is the first document of a golden input file.
type testConfig struct {
	Kind        string   `json:"kind"`
	NodeName    string   `json:"nodeName"`
	NodeIPs     []string `json:"nodeIPs"`
	ClusterCIDR string   `json:"clusterCIDR"`
}

// loadInput reads a multi-document YAML file: one TestInput document and
// any number of Services and EndpointSlices.
func loadInput(t testing.TB, path string) Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var in Input
	for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("%s: document %d: %v", path, i, err)
		}
		switch tm.Kind {
		case "TestInput":
			var c testConfig
			mustUnmarshal(t, path, doc, &c)
			in.NodeName, in.ClusterCIDR = c.NodeName, c.ClusterCIDR
			for _, s := range c.NodeIPs {
				in.NodeIPs = append(in.NodeIPs, net.ParseIP(s))
			}
		case "Service":
			svc := &corev1.Service{}
			mustUnmarshal(t, path, doc, svc)
			in.Services = append(in.Services, svc)
		case "EndpointSlice":
			s := &discoveryv1.EndpointSlice{}
			mustUnmarshal(t, path, doc, s)
			in.Slices = append(in.Slices, s)
		default:
			t.Fatalf("%s: document %d: unknown kind %q", path, i, tm.Kind)
		}
	}
	return in
}

func mustUnmarshal(t testing.TB, path, doc string, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(doc), into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// render is the golden text: the script, then the warnings as comments.
func render(r *RuleSet) string {
	var b strings.Builder
	b.WriteString(r.NFT())
	for _, w := range r.Warnings {
		b.WriteString("# warning: " + w + "\n")
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".yaml")
		t.Run(name, func(t *testing.T) {
			got := render(Compute(loadInput(t, in)))
			golden := strings.TrimSuffix(in, ".yaml") + ".nft"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, lineDiff(string(want), got))
			}
		})
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	count := map[string]int{}
	for _, l := range strings.Split(want, "\n") {
		count[l]++
	}
	for _, l := range strings.Split(got, "\n") {
		count[l]--
	}
	var b strings.Builder
	for _, l := range strings.Split(want, "\n") {
		if count[l] > 0 {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if count[l] < 0 {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}
