package dns

import (
	"net/netip"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// Source gives the Resolver the API objects it answers from.
type Source interface {
	// Service returns the Service, or nil.
	Service(namespace, name string) *corev1.Service
	// EndpointSlices returns the slices of a Service.
	EndpointSlices(namespace, service string) []*discoveryv1.EndpointSlice
	// ServicesByIP returns the Services with the given cluster IP.
	ServicesByIP(ip string) []*corev1.Service
	// SlicesByAddress returns the slices with an endpoint at the address.
	SlicesByAddress(ip string) []*discoveryv1.EndpointSlice
}

// Resolver answers questions about the cluster domain. It does no I/O.
type Resolver struct {
	// Domain is the cluster domain, such as "cluster.local".
	Domain string
	// TTL is the lifetime of the records given (and of negative answers).
	TTL uint32
	// Source holds the Services and EndpointSlices.
	Source Source
}

// Answer is the Resolver's reply to one question.
type Answer struct {
	// Forward is true when the name is not the Resolver's to answer.
	Forward bool
	// Rcode is mdns.RcodeSuccess or mdns.RcodeNameError (NXDOMAIN).
	Rcode  int
	Answer []mdns.RR
	// Extra holds the addresses of SRV targets.
	Extra []mdns.RR
	// Ns holds the SOA of negative answers.
	Ns []mdns.RR
	// Chase is the target of an ExternalName CNAME when the question asked
	// for addresses: the server may resolve it and add the records.
	Chase string
}

func (r *Resolver) zone() string { return mdns.Fqdn(strings.ToLower(r.Domain)) }

// Resolve answers one question.
func (r *Resolver) Resolve(q mdns.Question) Answer {
	name := strings.ToLower(mdns.Fqdn(q.Name))
	zone := r.zone()
	if strings.HasSuffix(name, ".in-addr.arpa.") {
		return r.reverse(q, name)
	}
	if name != zone && !strings.HasSuffix(name, "."+zone) {
		return Answer{Forward: true}
	}
	var labels []string
	if rel := strings.TrimSuffix(strings.TrimSuffix(name, zone), "."); rel != "" {
		labels = strings.Split(rel, ".")
	}
	switch {
	case len(labels) == 0:
		if q.Qtype == mdns.TypeSOA || q.Qtype == mdns.TypeANY {
			return Answer{Answer: []mdns.RR{r.soa()}}
		}
		return r.noData()
	case labels[len(labels)-1] == "svc":
		return r.service(q, name, labels[:len(labels)-1])
	case labels[len(labels)-1] == "pod" && len(labels) == 3:
		return r.pod(q, name, labels[0])
	case labels[len(labels)-1] == "pod" && len(labels) < 3:
		return r.noData()
	}
	return r.nxdomain()
}

// service answers names under svc.<domain>; labels are before "svc".
func (r *Resolver) service(q mdns.Question, name string, labels []string) Answer {
	switch len(labels) {
	case 0, 1: // svc.<domain>, <ns>.svc.<domain>
		return r.noData()
	case 2:
		svc := r.Source.Service(labels[1], labels[0])
		if svc == nil {
			return r.nxdomain()
		}
		return r.serviceAddrs(q, name, svc)
	case 3:
		svc := r.Source.Service(labels[2], labels[1])
		if svc == nil || !headless(svc) {
			return r.nxdomain()
		}
		return r.endpointAddrs(q, name, svc, labels[0])
	case 4:
		if !strings.HasPrefix(labels[0], "_") || !strings.HasPrefix(labels[1], "_") {
			return r.nxdomain()
		}
		svc := r.Source.Service(labels[3], labels[2])
		if svc == nil {
			return r.nxdomain()
		}
		return r.srv(q, name, svc, labels[0][1:], labels[1][1:])
	}
	return r.nxdomain()
}

// serviceAddrs answers <svc>.<ns>.svc.<domain>.
func (r *Resolver) serviceAddrs(q mdns.Question, name string, svc *corev1.Service) Answer {
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		target := mdns.Fqdn(strings.ToLower(svc.Spec.ExternalName))
		a := Answer{Answer: []mdns.RR{&mdns.CNAME{Hdr: r.hdr(name, mdns.TypeCNAME), Target: target}}}
		if q.Qtype == mdns.TypeA || q.Qtype == mdns.TypeAAAA {
			a.Chase = target
		}
		return a
	}
	var ips []string
	if headless(svc) {
		for _, ep := range r.endpoints(svc) {
			ips = append(ips, ep.addr)
		}
	} else {
		ips = svc.Spec.ClusterIPs
		if len(ips) == 0 && svc.Spec.ClusterIP != "" {
			ips = []string{svc.Spec.ClusterIP}
		}
	}
	return r.addrAnswer(q, name, ips)
}

// endpointAddrs answers <host>.<svc>.<ns>.svc.<domain> for a headless
// Service: host is an endpoint's hostname or its dashed address.
func (r *Resolver) endpointAddrs(q mdns.Question, name string, svc *corev1.Service, host string) Answer {
	var ips []string
	for _, ep := range r.endpoints(svc) {
		if ep.host == host {
			ips = append(ips, ep.addr)
		}
	}
	if len(ips) == 0 {
		return r.nxdomain()
	}
	return r.addrAnswer(q, name, ips)
}

// srv answers _<port>._<proto>.<svc>.<ns>.svc.<domain>: one record for
// the Service name, or for a headless Service one per endpoint.
func (r *Resolver) srv(q mdns.Question, name string, svc *corev1.Service, port, proto string) Answer {
	idx := slices.IndexFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool {
		return p.Name != "" && strings.EqualFold(p.Name, port) && strings.EqualFold(string(protocol(p.Protocol)), proto)
	})
	if idx < 0 {
		return r.nxdomain()
	}
	if q.Qtype != mdns.TypeSRV && q.Qtype != mdns.TypeANY {
		return r.noData()
	}
	sp := svc.Spec.Ports[idx]
	base := svc.Name + "." + svc.Namespace + ".svc." + r.zone()
	var a Answer
	if !headless(svc) {
		a.Answer = []mdns.RR{&mdns.SRV{Hdr: r.hdr(name, mdns.TypeSRV), Priority: 0, Weight: 100, Port: uint16(sp.Port), Target: base}}
		a.Extra = r.addrRecords(base, mdns.TypeANY, svc.Spec.ClusterIPs)
		return a
	}
	eps := r.endpointsWithPort(svc, sp)
	for _, ep := range eps {
		target := ep.host + "." + base
		a.Answer = append(a.Answer, &mdns.SRV{Hdr: r.hdr(name, mdns.TypeSRV), Priority: 0,
			Weight: uint16(max(1, 100/len(eps))), Port: uint16(ep.port), Target: target})
		a.Extra = append(a.Extra, r.addrRecords(target, mdns.TypeANY, []string{ep.addr})...)
	}
	return a
}

// pod answers <a-b-c-d>.<ns>.pod.<domain> with the address in the name.
func (r *Resolver) pod(q mdns.Question, name, dashed string) Answer {
	addr, err := netip.ParseAddr(strings.ReplaceAll(dashed, "-", "."))
	if err != nil || !addr.Is4() {
		return r.nxdomain()
	}
	return r.addrAnswer(q, name, []string{addr.String()})
}

// reverse answers PTR questions for cluster IPs and named endpoints and
// forwards the others.
func (r *Resolver) reverse(q mdns.Question, name string) Answer {
	parts := strings.Split(strings.TrimSuffix(name, ".in-addr.arpa."), ".")
	if len(parts) != 4 {
		return Answer{Forward: true}
	}
	slices.Reverse(parts)
	addr, err := netip.ParseAddr(strings.Join(parts, "."))
	if err != nil {
		return Answer{Forward: true}
	}
	ip := addr.String()
	var targets []string
	for _, svc := range r.Source.ServicesByIP(ip) {
		targets = append(targets, svc.Name+"."+svc.Namespace+".svc."+r.zone())
	}
	for _, s := range r.Source.SlicesByAddress(ip) {
		svcName := s.Labels[discoveryv1.LabelServiceName]
		for _, ep := range s.Endpoints {
			if ep.Hostname != nil && *ep.Hostname != "" && slices.Contains(ep.Addresses, ip) {
				targets = append(targets, *ep.Hostname+"."+svcName+"."+s.Namespace+".svc."+r.zone())
			}
		}
	}
	if len(targets) == 0 {
		return Answer{Forward: true}
	}
	if q.Qtype != mdns.TypePTR && q.Qtype != mdns.TypeANY {
		return r.noData()
	}
	var a Answer
	for _, t := range dedup(targets) {
		a.Answer = append(a.Answer, &mdns.PTR{Hdr: r.hdr(name, mdns.TypePTR), Ptr: t})
	}
	return a
}

// addrAnswer returns the addresses of the asked family, or no data.
func (r *Resolver) addrAnswer(q mdns.Question, name string, ips []string) Answer {
	rrs := r.addrRecords(name, q.Qtype, ips)
	if len(rrs) == 0 {
		return r.noData()
	}
	return Answer{Answer: rrs}
}

// addrRecords makes A and AAAA records (those of qtype, or both for ANY).
func (r *Resolver) addrRecords(name string, qtype uint16, ips []string) []mdns.RR {
	var out []mdns.RR
	for _, s := range dedup(ips) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		switch {
		case a.Is4() && (qtype == mdns.TypeA || qtype == mdns.TypeANY):
			out = append(out, &mdns.A{Hdr: r.hdr(name, mdns.TypeA), A: a.AsSlice()})
		case a.Is6() && (qtype == mdns.TypeAAAA || qtype == mdns.TypeANY):
			out = append(out, &mdns.AAAA{Hdr: r.hdr(name, mdns.TypeAAAA), AAAA: a.AsSlice()})
		}
	}
	return out
}

func (r *Resolver) hdr(name string, t uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: r.TTL}
}

func (r *Resolver) soa() mdns.RR {
	z := r.zone()
	return &mdns.SOA{Hdr: r.hdr(z, mdns.TypeSOA), Ns: "ns.dns." + z, Mbox: "hostmaster." + z,
		Serial: 1, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: r.TTL}
}

func (r *Resolver) nxdomain() Answer {
	return Answer{Rcode: mdns.RcodeNameError, Ns: []mdns.RR{r.soa()}}
}

func (r *Resolver) noData() Answer { return Answer{Ns: []mdns.RR{r.soa()}} }

// dnsEndpoint is an endpoint address with its DNS host label and port.
type dnsEndpoint struct {
	addr, host string
	port       int32
}

// endpoints lists a Service's endpoints that DNS publishes: ready ones,
// or all when the Service publishes not-ready addresses.
func (r *Resolver) endpoints(svc *corev1.Service) []dnsEndpoint {
	var out []dnsEndpoint
	for _, s := range r.Source.EndpointSlices(svc.Namespace, svc.Name) {
		out = append(out, sliceEndpoints(svc, s, -1)...)
	}
	return out
}

// endpointsWithPort lists the published endpoints that serve a port.
func (r *Resolver) endpointsWithPort(svc *corev1.Service, sp corev1.ServicePort) []dnsEndpoint {
	var out []dnsEndpoint
	for _, s := range r.Source.EndpointSlices(svc.Namespace, svc.Name) {
		for _, p := range s.Ports {
			name, proto := "", corev1.ProtocolTCP
			if p.Name != nil {
				name = *p.Name
			}
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			if name == sp.Name && proto == protocol(sp.Protocol) && p.Port != nil {
				out = append(out, sliceEndpoints(svc, s, *p.Port)...)
			}
		}
	}
	return out
}

func sliceEndpoints(svc *corev1.Service, s *discoveryv1.EndpointSlice, port int32) []dnsEndpoint {
	var out []dnsEndpoint
	for _, ep := range s.Endpoints {
		ready := ep.Conditions.Ready == nil || *ep.Conditions.Ready
		if len(ep.Addresses) == 0 || !(ready || svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		addr := ep.Addresses[0]
		host := strings.NewReplacer(".", "-", ":", "-").Replace(addr)
		if ep.Hostname != nil && *ep.Hostname != "" {
			host = strings.ToLower(*ep.Hostname)
		}
		out = append(out, dnsEndpoint{addr: addr, host: host, port: port})
	}
	return out
}

func headless(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName && svc.Spec.ClusterIP == corev1.ClusterIPNone
}

func protocol(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

func dedup(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
