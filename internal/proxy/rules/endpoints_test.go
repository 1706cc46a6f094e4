package rules

import (
	"net/netip"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
)

func TestUsable(t *testing.T) {
	ep := func(ip string, ready, serving, terminating, local bool) endpoint {
		return endpoint{Addr: netip.MustParseAddr(ip), Port: 80, Ready: ready, Serving: serving, Terminating: terminating, Local: local}
	}
	var (
		readyLocal   = ep("10.0.0.1", true, true, false, true)
		readyRemote  = ep("10.0.0.2", true, true, false, false)
		termLocal    = ep("10.0.0.3", false, true, true, true)
		termRemote   = ep("10.0.0.4", false, true, true, false)
		notServing   = ep("10.0.0.5", false, false, true, true)
		notReady     = ep("10.0.0.6", false, false, false, true)
		readyAndTerm = ep("10.0.0.7", true, true, true, true) // inconsistent: counts as terminating
	)
	tests := []struct {
		name      string
		eps       []endpoint
		localOnly bool
		want      []endpoint
	}{
		{"ready only", []endpoint{readyLocal, readyRemote, termLocal}, false, []endpoint{readyLocal, readyRemote}},
		{"terminating when none ready", []endpoint{termLocal, termRemote, notServing, notReady}, false, []endpoint{termLocal, termRemote}},
		{"local ready", []endpoint{readyLocal, readyRemote, termLocal}, true, []endpoint{readyLocal}},
		{"local terminating though remote ready", []endpoint{readyRemote, termLocal, termRemote}, true, []endpoint{termLocal}},
		{"nothing usable", []endpoint{notServing, notReady}, false, nil},
		{"ready and terminating", []endpoint{readyAndTerm}, false, []endpoint{readyAndTerm}},
		{"no local", []endpoint{readyRemote}, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := usable(tt.eps, tt.localOnly); !slices.Equal(got, tt.want) {
				t.Errorf("usable = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEndpointsFor(t *testing.T) {
	slice := func(name string, proto *corev1.Protocol, port *int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To(name), Protocol: proto, Port: port}},
			Endpoints:   eps,
		}
	}
	at := func(ip, node string, ready *bool) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{Addresses: []string{ip}, NodeName: ptr.To(node), Conditions: discoveryv1.EndpointConditions{Ready: ready}}
	}
	input := []*discoveryv1.EndpointSlice{
		slice("http", nil, ptr.To[int32](8080), at("10.0.0.9", "a", nil), at("10.0.0.1", "b", ptr.To(false))),
		slice("http", ptr.To(corev1.ProtocolTCP), ptr.To[int32](8080), at("10.0.0.1", "b", ptr.To(true)), at("::ffff:10.0.0.2", "a", nil)),
		slice("http", ptr.To(corev1.ProtocolUDP), ptr.To[int32](8080), at("10.0.0.3", "a", nil)),
		slice("admin", nil, ptr.To[int32](9090), at("10.0.0.4", "a", nil)),
		slice("http", nil, nil, at("10.0.0.5", "a", nil)),
		slice("http", nil, ptr.To[int32](8080), at("bogus", "a", nil), discoveryv1.Endpoint{}),
	}
	got := endpointsFor(input, corev1.ServicePort{Name: "http", Port: 80}, "a")
	want := []endpoint{
		{Addr: netip.MustParseAddr("10.0.0.1"), Port: 8080, Ready: true, Serving: true},
		{Addr: netip.MustParseAddr("10.0.0.2"), Port: 8080, Ready: true, Serving: true, Local: true},
		{Addr: netip.MustParseAddr("10.0.0.9"), Port: 8080, Ready: true, Serving: true, Local: true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("endpointsFor =\n%v\nwant\n%v", got, want)
	}
}

func TestSlicesByService(t *testing.T) {
	mk := func(ns, svc string, family discoveryv1.AddressType) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{AddressType: family}
		s.Namespace = ns
		if svc != "" {
			s.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
		}
		return s
	}
	got := slicesByService([]*discoveryv1.EndpointSlice{
		mk("a", "web", discoveryv1.AddressTypeIPv4), mk("a", "web", discoveryv1.AddressTypeIPv6),
		mk("b", "web", discoveryv1.AddressTypeIPv4), mk("a", "", discoveryv1.AddressTypeIPv4),
		mk("a", "fq", discoveryv1.AddressTypeFQDN), nil,
	})
	if len(got) != 2 || len(got["a/web"]) != 1 || len(got["b/web"]) != 1 {
		t.Errorf("slicesByService = %v", got)
	}
}
