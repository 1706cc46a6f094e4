package rules

import (
	"testing"
)

// The scale of the benchmark: 10,000 Services of 5 endpoints.
const benchServices, benchEndpoints = 10000, 5

// changedInput returns in with one endpoint of Service 4321 moved.
func changedInput(in Input) Input {
	s := in.Slices[4321].DeepCopy()
	s.Endpoints[3].Addresses = []string{"10.250.0.1"}
	return withSlice(in, 4321, s)
}

func BenchmarkCompute(b *testing.B) {
	in := genInput(benchServices, benchEndpoints)
	b.ReportAllocs()
	for b.Loop() {
		Compute(in)
	}
}

func BenchmarkRenderFull(b *testing.B) {
	r := Compute(genInput(benchServices, benchEndpoints))
	b.ReportAllocs()
	for b.Loop() {
		_ = r.NFT()
	}
}

// BenchmarkDiffOneEndpoint is Diff alone after one endpoint change.
func BenchmarkDiffOneEndpoint(b *testing.B) {
	in := genInput(benchServices, benchEndpoints)
	old, new := Compute(in), Compute(changedInput(in))
	b.ReportAllocs()
	for b.Loop() {
		if c := Diff(old, new); len(c.ChangedChains) != 1 {
			b.Fatalf("changed chains = %d", len(c.ChangedChains))
		}
	}
}

// BenchmarkSyncOneEndpoint is a whole resync after one endpoint change:
// recompute everything, diff against the previous set, render the script.
func BenchmarkSyncOneEndpoint(b *testing.B) {
	in := genInput(benchServices, benchEndpoints)
	old, next := Compute(in), changedInput(in)
	b.ReportAllocs()
	for b.Loop() {
		_ = Diff(old, Compute(next)).NFT()
	}
}

// BenchmarkComputerOneEndpoint is the incremental path of a sync after one
// endpoint change: Computer.Compute reuses the other 9,999 Services, then
// Diff and the script. Each iteration flips the endpoint back and forth.
func BenchmarkComputerOneEndpoint(b *testing.B) {
	in := genInput(benchServices, benchEndpoints)
	inputs := [2]Input{in, changedInput(in)}
	var c Computer
	prev := c.Compute(in)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		next := c.Compute(inputs[i%2])
		if ch := Diff(prev, next); len(ch.ChangedChains) != 1 {
			b.Fatalf("changed chains = %d", len(ch.ChangedChains))
		} else {
			_ = ch.NFT()
		}
		prev = next
	}
}
