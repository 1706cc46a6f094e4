package dns

import (
	"slices"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// mapSource is a Source over fixed objects.
type mapSource struct {
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
}

func (m mapSource) Service(ns, name string) *corev1.Service {
	for _, s := range m.services {
		if s.Namespace == ns && s.Name == name {
			return s
		}
	}
	return nil
}

func (m mapSource) EndpointSlices(ns, svc string) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, s := range m.slices {
		if s.Namespace == ns && s.Labels[discoveryv1.LabelServiceName] == svc {
			out = append(out, s)
		}
	}
	return out
}

func (m mapSource) ServicesByIP(ip string) []*corev1.Service {
	var out []*corev1.Service
	for _, s := range m.services {
		if keys, _ := clusterIPKeys(s); slices.Contains(keys, ip) {
			out = append(out, s)
		}
	}
	return out
}

func (m mapSource) SlicesByAddress(ip string) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for _, s := range m.slices {
		if keys, _ := sliceAddressKeys(s); slices.Contains(keys, ip) {
			out = append(out, s)
		}
	}
	return out
}

func service(name string, mutate func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name}}
	mutate(s)
	return s
}

type ep struct {
	addr, host string
	ready      bool
}

func slice(svc string, port int32, eps ...ep) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "shop", Name: svc + "-x", Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(port)}},
	}
	for _, e := range eps {
		d := discoveryv1.Endpoint{Addresses: []string{e.addr}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(e.ready)}}
		if e.host != "" {
			d.Hostname = ptr.To(e.host)
		}
		s.Endpoints = append(s.Endpoints, d)
	}
	return s
}

func testSource() mapSource {
	httpPort := []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}}
	return mapSource{
		services: []*corev1.Service{
			service("web", func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.Ports = "10.96.0.10", []string{"10.96.0.10", "fd00::10"}, httpPort
			}),
			service("db", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.Ports = corev1.ClusterIPNone, httpPort }),
			service("ext", func(s *corev1.Service) {
				s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "Example.COM"
			}),
		},
		slices: []*discoveryv1.EndpointSlice{
			slice("web", 8080, ep{"10.244.1.1", "", true}),
			slice("db", 5432, ep{"10.244.1.5", "db-0", true}, ep{"10.244.2.6", "", true}, ep{"10.244.3.7", "db-2", false}),
		},
	}
}

// TestResolve runs questions through the Resolver and compares the
// answer records in text form.
func TestResolve(t *testing.T) {
	r := &Resolver{Domain: "cluster.local", TTL: 5, Source: testSource()}
	tests := []struct {
		name    string
		qname   string
		qtype   uint16
		rcode   int
		forward bool
		want    []string // answer records, without the header's name/TTL/class
		extra   []string
		chase   string
	}{
		{"cluster IP", "web.shop.svc.cluster.local.", mdns.TypeA, 0, false, []string{"A 10.96.0.10"}, nil, ""},
		{"case folded", "WEB.Shop.svc.Cluster.Local.", mdns.TypeA, 0, false, []string{"A 10.96.0.10"}, nil, ""},
		{"IPv6 cluster IP", "web.shop.svc.cluster.local.", mdns.TypeAAAA, 0, false, []string{"AAAA fd00::10"}, nil, ""},
		{"headless: ready endpoints", "db.shop.svc.cluster.local.", mdns.TypeA, 0, false, []string{"A 10.244.1.5", "A 10.244.2.6"}, nil, ""},
		{"headless: no IPv6", "db.shop.svc.cluster.local.", mdns.TypeAAAA, 0, false, nil, nil, ""},
		{"endpoint by hostname", "db-0.db.shop.svc.cluster.local.", mdns.TypeA, 0, false, []string{"A 10.244.1.5"}, nil, ""},
		{"endpoint by dashed address", "10-244-2-6.db.shop.svc.cluster.local.", mdns.TypeA, 0, false, []string{"A 10.244.2.6"}, nil, ""},
		{"not-ready endpoint", "db-2.db.shop.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError, false, nil, nil, ""},
		{"hostname under a ClusterIP service", "x.web.shop.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError, false, nil, nil, ""},
		{"SRV of cluster IP service", "_http._tcp.web.shop.svc.cluster.local.", mdns.TypeSRV, 0, false,
			[]string{"SRV 0 100 80 web.shop.svc.cluster.local."},
			[]string{"web.shop.svc.cluster.local. A 10.96.0.10", "web.shop.svc.cluster.local. AAAA fd00::10"}, ""},
		{"SRV of headless service", "_http._tcp.db.shop.svc.cluster.local.", mdns.TypeSRV, 0, false,
			[]string{"SRV 0 50 5432 db-0.db.shop.svc.cluster.local.", "SRV 0 50 5432 10-244-2-6.db.shop.svc.cluster.local."},
			[]string{"db-0.db.shop.svc.cluster.local. A 10.244.1.5", "10-244-2-6.db.shop.svc.cluster.local. A 10.244.2.6"}, ""},
		{"SRV wrong protocol", "_http._udp.web.shop.svc.cluster.local.", mdns.TypeSRV, mdns.RcodeNameError, false, nil, nil, ""},
		{"ExternalName", "ext.shop.svc.cluster.local.", mdns.TypeA, 0, false, []string{"CNAME example.com."}, nil, "example.com."},
		{"ExternalName TXT", "ext.shop.svc.cluster.local.", mdns.TypeTXT, 0, false, []string{"CNAME example.com."}, nil, ""},
		{"unknown service", "nope.shop.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError, false, nil, nil, ""},
		{"unknown namespace of web", "web.other.svc.cluster.local.", mdns.TypeA, mdns.RcodeNameError, false, nil, nil, ""},
		{"unknown subtree", "foo.cluster.local.", mdns.TypeA, mdns.RcodeNameError, false, nil, nil, ""},
		{"namespace name", "shop.svc.cluster.local.", mdns.TypeA, 0, false, nil, nil, ""},
		{"zone SOA", "cluster.local.", mdns.TypeSOA, 0, false, []string{"SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"}, nil, ""},
		{"pod", "10-244-1-9.shop.pod.cluster.local.", mdns.TypeA, 0, false, []string{"A 10.244.1.9"}, nil, ""},
		{"bad pod", "x-1.shop.pod.cluster.local.", mdns.TypeA, mdns.RcodeNameError, false, nil, nil, ""},
		{"PTR of cluster IP", "10.0.96.10.in-addr.arpa.", mdns.TypePTR, 0, false, []string{"PTR web.shop.svc.cluster.local."}, nil, ""},
		{"PTR of named endpoint", "5.1.244.10.in-addr.arpa.", mdns.TypePTR, 0, false, []string{"PTR db-0.db.shop.svc.cluster.local."}, nil, ""},
		{"PTR unknown", "1.2.0.192.in-addr.arpa.", mdns.TypePTR, 0, true, nil, nil, ""},
		{"outside name", "example.com.", mdns.TypeA, 0, true, nil, nil, ""},
		{"suffix is not the zone", "xcluster.local.", mdns.TypeA, 0, true, nil, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := r.Resolve(mdns.Question{Name: tt.qname, Qtype: tt.qtype, Qclass: mdns.ClassINET})
			if a.Forward != tt.forward || a.Rcode != tt.rcode || a.Chase != tt.chase {
				t.Fatalf("forward=%v rcode=%d chase=%q, want %v %d %q", a.Forward, a.Rcode, a.Chase, tt.forward, tt.rcode, tt.chase)
			}
			if got := rrText(a.Answer, true); !slices.Equal(got, tt.want) {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
			if got := rrText(a.Extra, false); !slices.Equal(got, tt.extra) {
				t.Errorf("extra %q, want %q", got, tt.extra)
			}
			negative := !tt.forward && len(tt.want) == 0
			if negative && (len(a.Ns) != 1 || a.Ns[0].Header().Rrtype != mdns.TypeSOA) {
				t.Errorf("negative answer without SOA: %v", a.Ns)
			}
		})
	}
}

// rrText renders records as "TYPE data" (with the owner name unless
// dropName), in order.
func rrText(rrs []mdns.RR, dropName bool) []string {
	var out []string
	for _, rr := range rrs {
		f := strings.Fields(rr.String()) // name ttl class type data...
		s := strings.Join(append([]string{f[3]}, f[4:]...), " ")
		if !dropName {
			s = f[0] + " " + s
		}
		if rr.Header().Ttl != 5 {
			s += " (ttl " + rr.String() + ")"
		}
		out = append(out, s)
	}
	return out
}
