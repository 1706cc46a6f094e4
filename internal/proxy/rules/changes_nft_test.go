package rules

import (
	"testing"

	"k8s.io/utils/ptr"
)

// TestChangesNFT pins the order of an incremental script: chains declared,
// flushed, elements deleted, chains and sets deleted, sets declared, rules
// and elements added.
func TestChangesNFT(t *testing.T) {
	old := Compute(smallInput(func(in *Input) { setAffinity(in, 60) }))
	new := Compute(smallInput(func(in *Input) {
		setAffinity(in, 60)
		in.Slices[1].Endpoints[1].Conditions.Ready = ptr.To(false)
		in.Slices[2].Endpoints = nil
	}))
	want := `flush chain inet skiff-proxy service-ns/svc-1/tcp/http
flush chain inet skiff-proxy endpoint-ns/svc-1/tcp/http__10.129.0.2/8080
flush chain inet skiff-proxy service-ns/svc-2/tcp/http
delete element inet skiff-proxy hairpin { 10.128.0.3 . 10.128.0.3 }
delete element inet skiff-proxy hairpin { 10.129.0.2 . 10.129.0.2 }
delete element inet skiff-proxy hairpin { 10.129.0.3 . 10.129.0.3 }
delete element inet skiff-proxy service-ips { 10.96.0.3 . tcp . 80 }
delete chain inet skiff-proxy endpoint-ns/svc-1/tcp/http__10.129.0.2/8080
delete chain inet skiff-proxy service-ns/svc-2/tcp/http
delete set inet skiff-proxy affinity-ns/svc-1/tcp/http__10.129.0.2/8080
add rule inet skiff-proxy service-ns/svc-1/tcp/http ip daddr 10.96.0.2 ip saddr != 10.128.0.0/9 meta mark set meta mark | 0x00004000 comment "masquerade clients outside the pod network"
add rule inet skiff-proxy service-ns/svc-1/tcp/http ip saddr @affinity-ns/svc-1/tcp/http__10.128.0.2/8080 goto endpoint-ns/svc-1/tcp/http__10.128.0.2/8080
add rule inet skiff-proxy service-ns/svc-1/tcp/http goto endpoint-ns/svc-1/tcp/http__10.128.0.2/8080
add element inet skiff-proxy no-endpoint-services { 10.96.0.3 . tcp . 80 comment "ns/svc-2:http" : goto reject-chain }
`
	if got := Diff(old, new).NFT(); got != want {
		t.Errorf("script:\n%s\nwant:\n%s\ndiff:\n%s", got, want, lineDiff(want, got))
	}
	if got := Diff(new, new).NFT(); got != "" {
		t.Errorf("no change rendered as %q", got)
	}
}
