package node

import (
	"context"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestDNSEndpointSlice(t *testing.T) {
	tests := []struct {
		listen   string
		wantType discoveryv1.AddressType
		wantAddr string
		wantPort int32
		wantErr  bool
	}{
		{"192.168.77.2:53", discoveryv1.AddressTypeIPv4, "192.168.77.2", 53, false},
		{"[fd00::2]:1053", discoveryv1.AddressTypeIPv6, "fd00::2", 1053, false},
		{"192.168.77.2", "", "", 0, true},
	}
	for _, tt := range tests {
		s, err := dnsEndpointSlice("n1", tt.listen)
		if tt.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tt.listen)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.listen, err)
		}
		if s.Name != "kube-dns-n1" || s.Namespace != "kube-system" || s.Labels[discoveryv1.LabelServiceName] != "kube-dns" ||
			s.Labels[discoveryv1.LabelManagedBy] != DNSSliceManagedBy {
			t.Errorf("%s: metadata %+v", tt.listen, s.ObjectMeta)
		}
		ep := s.Endpoints[0]
		if s.AddressType != tt.wantType || ep.Addresses[0] != tt.wantAddr || *ep.NodeName != "n1" || !*ep.Conditions.Ready {
			t.Errorf("%s: endpoint %+v type %s", tt.listen, ep, s.AddressType)
		}
		if len(s.Ports) != 2 || *s.Ports[0].Name != "dns" || *s.Ports[0].Protocol != "UDP" || *s.Ports[1].Name != "dns-tcp" ||
			*s.Ports[1].Protocol != "TCP" || *s.Ports[0].Port != tt.wantPort || *s.Ports[1].Port != tt.wantPort {
			t.Errorf("%s: ports %+v", tt.listen, s.Ports)
		}
	}
}

func TestEnsureSlice(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset()
	want, _ := dnsEndpointSlice("n1", "192.168.77.2:53")
	if err := ensureSlice(ctx, client, want); err != nil {
		t.Fatal(err)
	}
	moved, _ := dnsEndpointSlice("n1", "192.168.77.9:53")
	if err := ensureSlice(ctx, client, moved); err != nil {
		t.Fatal(err)
	}
	got, err := client.DiscoveryV1().EndpointSlices("kube-system").Get(ctx, "kube-dns-n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Endpoints[0].Addresses[0] != "192.168.77.9" {
		t.Fatalf("slice address %v after the node IP changed", got.Endpoints[0].Addresses)
	}
	v6, _ := dnsEndpointSlice("n1", "[fd00::9]:53")
	if err := ensureSlice(ctx, client, v6); err != nil {
		t.Fatal(err)
	}
	got, _ = client.DiscoveryV1().EndpointSlices("kube-system").Get(ctx, "kube-dns-n1", metav1.GetOptions{})
	if got.AddressType != discoveryv1.AddressTypeIPv6 {
		t.Fatalf("address type %s after moving to IPv6", got.AddressType)
	}
}
