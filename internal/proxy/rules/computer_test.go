package rules

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

// TestComputerMatchesCompute checks that incremental results and their
// diffs equal those computed from scratch, and that unchanged Services
// share their groups.
func TestComputerMatchesCompute(t *testing.T) {
	in := genInput(50, 3)
	changed := changedSlice(in, 7)
	var c Computer
	r1 := c.Compute(in)
	r2 := c.Compute(changed)
	if got, want := r2.NFT(), Compute(changed).NFT(); got != want {
		t.Fatalf("incremental result differs:\n%s", lineDiff(want, got))
	}
	if got, want := summary(Diff(r1, r2)), summary(Diff(Compute(in), Compute(changed))); !slices.Equal(got, want) {
		t.Errorf("incremental diff:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r1.groups["ns/svc-6"] != r2.groups["ns/svc-6"] {
		t.Error("unchanged Service was recomputed")
	}
	if r1.groups["ns/svc-7"] == r2.groups["ns/svc-7"] {
		t.Error("changed Service was not recomputed")
	}
}

// TestComputerSameObject checks when a Service's group is reused.
func TestComputerSameObject(t *testing.T) {
	withRV := func(in Input, uid, rv string) Input {
		out := in
		out.Services = slices.Clone(in.Services)
		out.Services[0] = in.Services[0].DeepCopy()
		out.Services[0].UID, out.Services[0].ResourceVersion = types.UID(uid), rv
		return out
	}
	base := genInput(2, 2)
	tests := []struct {
		name        string
		first, next Input
		reused      bool
	}{
		{"same pointers", base, base, true},
		{"same uid and resource version", withRV(base, "u1", "5"), withRV(base, "u1", "5"), true},
		{"new resource version", withRV(base, "u1", "5"), withRV(base, "u1", "6"), false},
		{"copies without resource version", withRV(base, "u1", ""), withRV(base, "u1", ""), false},
		{"node changed", base, func() Input { in := base; in.NodeName = "node-1"; return in }(), false},
		{"slice changed", base, changedSlice(base, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Computer
			g1 := c.Compute(tt.first).groups["ns/svc-0"]
			g2 := c.Compute(tt.next).groups["ns/svc-0"]
			if (g1 == g2) != tt.reused {
				t.Errorf("reused = %v, want %v", g1 == g2, tt.reused)
			}
		})
	}
}

// changedSlice returns in with the first endpoint of Service i moved.
func changedSlice(in Input, i int) Input {
	s := in.Slices[i].DeepCopy()
	s.Endpoints[0].Addresses = []string{"10.250.0.1"}
	return withSlice(in, i, s)
}

// TestComputerSequence runs a sequence of edits through one Computer and
// checks each result, and each Diff applied to the previous result,
// against Compute from scratch.
func TestComputerSequence(t *testing.T) {
	in := genInput(40, 3)
	claim := func(i int) func(Input) Input { // Service i claims 198.51.100.1:80
		return func(in Input) Input {
			in.Services = slices.Clone(in.Services)
			svc := in.Services[i].DeepCopy()
			svc.Spec.ExternalIPs = []string{"198.51.100.1"}
			in.Services[i] = svc
			return in
		}
	}
	steps := []struct {
		name string
		edit func(Input) Input
	}{
		{"one endpoint", func(in Input) Input { return changedSlice(in, 3) }},
		{"same again", func(in Input) Input { return in }},
		{"service removed", func(in Input) Input { in.Services = slices.Delete(slices.Clone(in.Services), 5, 6); return in }},
		{"service back", func(in Input) Input { in.Services = append(slices.Clone(in.Services), genService(5)); return in }},
		{"external IP", claim(8)},
		{"conflicting external IP", claim(9)},
		{"another endpoint during conflict", func(in Input) Input { return changedSlice(in, 12) }},
		{"conflict resolved", func(in Input) Input {
			in.Services = slices.Clone(in.Services)
			in.Services[8] = genService(8)
			return in
		}},
		{"slice removed", func(in Input) Input { in.Slices = slices.Delete(slices.Clone(in.Slices), 20, 21); return in }},
		{"many changed", func(in Input) Input {
			for i := range 30 {
				in = changedSlice(in, i)
			}
			return in
		}},
		{"node renamed", func(in Input) Input { in.NodeName = "node-2"; return in }},
	}
	var c Computer
	prev := c.Compute(in)
	for _, step := range steps {
		in = step.edit(in)
		got := c.Compute(in)
		want := Compute(in)
		if g, w := render(got), render(want); g != w {
			t.Fatalf("%s: incremental result differs:\n%s", step.name, lineDiff(w, g))
		}
		if g, w := apply(prev, Diff(prev, got)).NFT(), want.NFT(); g != w {
			t.Fatalf("%s: previous + diff differs:\n%s", step.name, lineDiff(w, g))
		}
		prev = got
	}
	if len(prev.Warnings) != 0 {
		t.Errorf("warnings left: %v", prev.Warnings)
	}
}
