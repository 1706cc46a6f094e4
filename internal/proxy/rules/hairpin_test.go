package rules

import (
	"strings"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
)

// TestHairpinShared checks that an endpoint address two Services share
// keeps its hairpin element until the last of them lets it go, through
// the Computer's patch path.
func TestHairpinShared(t *testing.T) {
	const shared = "10.128.0.2 . 10.128.0.2"
	base := genInput(12, 2) // enough Services for the Computer to patch
	base.Slices[2] = base.Slices[2].DeepCopy()
	base.Slices[2].Endpoints[0].Addresses = []string{"10.128.0.2"} // svc-2 shares svc-1's first endpoint
	steps := []struct {
		name   string
		mutate func(in *Input)
		want   bool
	}{
		{"both Services", nil, true},
		{"svc-2 gone", func(in *Input) { in.Slices[2] = emptied(in.Slices[2]) }, true},
		{"svc-1 gone too", func(in *Input) { in.Slices[1], in.Slices[2] = emptied(in.Slices[1]), emptied(in.Slices[2]) }, false},
		{"back", nil, true},
	}
	var c Computer
	for _, st := range steps {
		in := base
		in.Slices = append(in.Slices[:0:0], base.Slices...)
		if st.mutate != nil {
			st.mutate(&in)
		}
		r := c.Compute(in)
		if _, got := r.Sets[setHairpin].Elements[shared]; got != st.want {
			t.Errorf("%s: hairpin element present = %v, want %v", st.name, got, st.want)
		}
		if got, want := r.NFT(), Compute(in).NFT(); got != want {
			t.Errorf("%s: Computer differs from Compute:\n%s", st.name, lineDiff(want, got))
		}
	}
}

// TestEndpointChainsLayout checks the iptables layout: one chain per
// endpoint with the hairpin rule in it, no hairpin set, no inline marks.
func TestEndpointChainsLayout(t *testing.T) {
	in := smallInput(nil)
	in.EndpointChains = true
	r := Compute(in)
	if _, ok := r.Sets[setHairpin]; ok {
		t.Error("hairpin set declared in the endpoint-chain layout")
	}
	ep := r.Chains["endpoint-ns/svc-1/tcp/http__10.128.0.2/8080"]
	if ep == nil {
		t.Fatal("no endpoint chain")
	}
	if got := ep.rulesText(); !strings.Contains(got, "ip saddr 10.128.0.2 jump mark-for-masquerade") {
		t.Errorf("endpoint chain lacks the hairpin rule:\n%s", got)
	}
	if got := r.NFT(); strings.Contains(got, "dnat ip addr . port") || strings.Contains(got, "hairpin {") {
		t.Errorf("compact-layout rules in the endpoint-chain layout:\n%s", got)
	}
	compact := Compute(smallInput(nil))
	if n, m := len(compact.Chains), len(r.Chains); n >= m {
		t.Errorf("compact layout has %d chains, endpoint-chain layout %d", n, m)
	}
}

// emptied returns a copy of the slice without endpoints.
func emptied(s *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	s = s.DeepCopy()
	s.Endpoints = nil
	return s
}
