package rules

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// summary lists what the changes touch, one line per chain, set or
// element: "+" added, "~" changed, "-" deleted.
func summary(c Changes) []string {
	var out []string
	for _, ch := range c.AddedChains {
		out = append(out, "+chain "+ch.Name)
	}
	for _, ch := range c.ChangedChains {
		out = append(out, "~chain "+ch.Name)
	}
	for _, n := range c.DeletedChains {
		out = append(out, "-chain "+n)
	}
	for _, s := range c.AddedSets {
		out = append(out, "+set "+s.Name)
	}
	for _, s := range c.DeletedSets {
		out = append(out, "-set "+s.Name)
	}
	for _, e := range c.AddedElements {
		out = append(out, "+elem "+e.Set+" "+e.Element.KeyString())
	}
	for _, e := range c.DeletedElements {
		out = append(out, "-elem "+e.Set+" "+e.Element.KeyString())
	}
	return out
}

// apply plays changes on a copy of r, as the kernel would.
func apply(r *RuleSet, c Changes) *RuleSet {
	out := newRuleSet()
	maps.Copy(out.Chains, r.Chains)
	for name, s := range r.Sets {
		cp := *s
		cp.Elements = maps.Clone(s.Elements)
		out.Sets[name] = &cp
	}
	for _, n := range c.DeletedChains {
		delete(out.Chains, n)
	}
	for _, ch := range slices.Concat(c.AddedChains, c.ChangedChains) {
		out.Chains[ch.Name] = ch
	}
	for _, e := range c.DeletedElements {
		delete(out.Sets[e.Set].Elements, e.Element.KeyString())
	}
	for _, s := range c.DeletedSets {
		delete(out.Sets, s.Name)
	}
	for _, s := range c.AddedSets {
		cp := *s
		cp.Elements = map[string]Element{}
		out.Sets[s.Name] = &cp
	}
	for _, e := range c.AddedElements {
		out.Sets[e.Set].Elements[e.Element.KeyString()] = e.Element
	}
	return out
}

// smallInput is three Services of two endpoints; mutate edits a copy.
func smallInput(mutate func(in *Input)) Input {
	in := genInput(3, 2)
	for i := range in.Slices {
		in.Slices[i] = in.Slices[i].DeepCopy()
	}
	for i := range in.Services {
		in.Services[i] = in.Services[i].DeepCopy()
	}
	if mutate != nil {
		mutate(&in)
	}
	return in
}

func TestDiff(t *testing.T) {
	const (
		svc1     = "service-ns/svc-1/tcp/http"
		ep1a     = "endpoint-ns/svc-1/tcp/http__10.128.0.2/8080"
		ep1b     = "endpoint-ns/svc-1/tcp/http__10.129.0.2/8080"
		hp1a     = "hairpin 10.128.0.2 . 10.128.0.2"
		hp1b     = "hairpin 10.129.0.2 . 10.129.0.2"
		aff1a    = "affinity-ns/svc-1/tcp/http__10.128.0.2/8080"
		aff1b    = "affinity-ns/svc-1/tcp/http__10.129.0.2/8080"
		svc1Elem = "service-ips 10.96.0.2 . tcp . 80"
	)
	affinity := func(seconds int32) func(in *Input) {
		return func(in *Input) { setAffinity(in, seconds) }
	}
	tests := []struct {
		name     string
		old, new func(in *Input)
		want     []string
	}{
		{name: "nothing changed", want: nil},
		{
			name: "endpoint added",
			new: func(in *Input) {
				in.Slices[1].Endpoints = append(in.Slices[1].Endpoints, genEndpoint("10.9.9.9", 1))
			},
			want: []string{"~chain " + svc1, "+elem hairpin 10.9.9.9 . 10.9.9.9"},
		},
		{
			name: "endpoint not ready",
			new:  func(in *Input) { in.Slices[1].Endpoints[1].Conditions.Ready = ptr.To(false) },
			want: []string{"~chain " + svc1, "-elem " + hp1b},
		},
		{
			name: "last endpoints gone: reject",
			new:  func(in *Input) { in.Slices[1].Endpoints = nil },
			want: []string{"-chain " + svc1,
				"+elem no-endpoint-services 10.96.0.2 . tcp . 80", "-elem " + hp1a, "-elem " + hp1b, "-elem " + svc1Elem},
		},
		{
			name: "service deleted, slice left",
			new:  func(in *Input) { in.Services = slices.Delete(in.Services, 1, 2) },
			want: []string{"-chain " + svc1, "-elem " + hp1a, "-elem " + hp1b, "-elem " + svc1Elem},
		},
		{
			name: "affinity turned on",
			new:  affinity(60),
			want: []string{"+chain " + ep1a, "+chain " + ep1b, "~chain " + svc1, "+set " + aff1a, "+set " + aff1b},
		},
		{
			name: "affinity timeout changed: sets redeclared",
			old:  affinity(60),
			new:  affinity(120),
			// the service chain reads the sets: flushed too, though unchanged
			want: []string{"~chain " + ep1a, "~chain " + ep1b, "~chain " + svc1, "+set " + aff1a, "+set " + aff1b,
				"-set " + aff1a, "-set " + aff1b},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, new := Compute(smallInput(tt.old)), Compute(smallInput(tt.new))
			c := Diff(old, new)
			if got := summary(c); !slices.Equal(got, tt.want) {
				t.Errorf("changes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if got, want := apply(old, c).NFT(), new.NFT(); got != want {
				t.Errorf("old + changes != new:\n%s", lineDiff(want, got))
			}
			if c.Empty() != (len(tt.want) == 0) {
				t.Errorf("Empty() = %v", c.Empty())
			}
		})
	}
}

// TestDiffOneEndpointAmongMany changes one endpoint of one Service among
// 500 and checks that only that Service's chain and its endpoint's
// hairpin element change.
func TestDiffOneEndpointAmongMany(t *testing.T) {
	in := genInput(500, 5)
	for _, idx := range []int{57, 56} { // a ClusterIP and a NodePort Service
		old := Compute(in)
		s := in.Slices[idx].DeepCopy()
		s.Endpoints[2].Addresses = []string{"10.250.0.1"}
		new := Compute(withSlice(in, idx, s))
		c := Diff(old, new)
		prefix := "ns/svc-" + strconv.Itoa(idx) + "/"
		for _, line := range summary(c) {
			if !strings.Contains(line, prefix) && !strings.Contains(line, "elem hairpin ") {
				t.Errorf("service %d: change outside the service: %s", idx, line)
			}
		}
		if len(c.AddedChains)+len(c.DeletedChains) != 0 || len(c.ChangedChains) != 1 ||
			len(c.AddedElements) != 1 || len(c.DeletedElements) != 1 || len(c.AddedSets)+len(c.DeletedSets) != 0 {
			t.Errorf("service %d: want one chain changed, one element added and deleted, got %v", idx, summary(c))
		}
		if len(c.AddedElements) == 1 && c.AddedElements[0].Element.KeyString() != "10.250.0.1 . 10.250.0.1" {
			t.Errorf("service %d: added %v, want the new endpoint's hairpin element", idx, c.AddedElements[0])
		}
		if got, want := apply(old, c).NFT(), new.NFT(); got != want {
			t.Errorf("service %d: old + changes != new:\n%s", idx, lineDiff(want, got))
		}
	}
}

// setAffinity gives Service 1 ClientIP affinity with the timeout.
func setAffinity(in *Input, seconds int32) {
	in.Services[1].Spec.SessionAffinity = corev1.ServiceAffinityClientIP
	in.Services[1].Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
		ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(seconds)}}
}
