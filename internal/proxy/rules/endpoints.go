package rules

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// endpoint is one backend address of one Service port.
type endpoint struct {
	Addr        netip.Addr
	Port        int32
	Ready       bool
	Serving     bool
	Terminating bool
	// Local is true when the endpoint runs on this node.
	Local bool
}

// key names the endpoint within its Service port: "ip/port".
func (e endpoint) key() string { return e.Addr.String() + "/" + strconv.Itoa(int(e.Port)) }

// rank orders duplicates of one address: ready beats serving beats the rest.
func (e endpoint) rank() int {
	switch {
	case e.Ready:
		return 2
	case e.Serving:
		return 1
	}
	return 0
}

// slicesByService groups IPv4 EndpointSlices by "namespace/service".
// Slices of other address types and slices without the service-name
// label are skipped.
func slicesByService(all []*discoveryv1.EndpointSlice) map[string][]*discoveryv1.EndpointSlice {
	out := make(map[string][]*discoveryv1.EndpointSlice, len(all))
	for _, s := range all {
		if s == nil || s.AddressType != discoveryv1.AddressTypeIPv4 {
			continue
		}
		svc := s.Labels[discoveryv1.LabelServiceName]
		if svc == "" {
			continue
		}
		key := s.Namespace + "/" + svc
		out[key] = append(out[key], s)
	}
	for _, list := range out { // a stable order, for Computer to compare
		slices.SortFunc(list, func(a, b *discoveryv1.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
	}
	return out
}

// endpointsFor collects the endpoints of one Service port from the
// Service's slices: slice ports match by name and protocol, endpoints are
// deduplicated by address and port, and the result is sorted.
func endpointsFor(slices []*discoveryv1.EndpointSlice, sp corev1.ServicePort, nodeName string) []endpoint {
	byKey := map[string]endpoint{}
	for _, s := range slices {
		port, ok := slicePort(s, sp)
		if !ok {
			continue
		}
		for _, ep := range s.Endpoints {
			e, ok := convertEndpoint(ep, port, nodeName)
			if !ok {
				continue
			}
			if old, dup := byKey[e.key()]; !dup || e.rank() > old.rank() {
				byKey[e.key()] = e
			}
		}
	}
	out := make([]endpoint, 0, len(byKey))
	for _, e := range byKey {
		out = append(out, e)
	}
	sortEndpoints(out)
	return out
}

// slicePort finds the slice port serving the Service port: same name and
// protocol (TCP when unset), with a port number.
func slicePort(s *discoveryv1.EndpointSlice, sp corev1.ServicePort) (int32, bool) {
	want := protocolOf(sp.Protocol)
	for _, p := range s.Ports {
		name, proto := "", corev1.ProtocolTCP
		if p.Name != nil {
			name = *p.Name
		}
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if name != sp.Name || proto != want || p.Port == nil || *p.Port <= 0 {
			continue
		}
		return *p.Port, true
	}
	return 0, false
}

// convertEndpoint reads the first address and the conditions of a slice
// endpoint. Unset ready counts as ready, unset serving follows ready, and
// unset terminating counts as not terminating.
func convertEndpoint(ep discoveryv1.Endpoint, port int32, nodeName string) (endpoint, bool) {
	if len(ep.Addresses) == 0 {
		return endpoint{}, false
	}
	addr, ok := parseIPv4(ep.Addresses[0])
	if !ok {
		return endpoint{}, false
	}
	c := ep.Conditions
	e := endpoint{Addr: addr, Port: port, Ready: c.Ready == nil || *c.Ready}
	e.Serving = e.Ready
	if c.Serving != nil {
		e.Serving = *c.Serving
	}
	e.Terminating = c.Terminating != nil && *c.Terminating
	e.Local = nodeName != "" && ep.NodeName != nil && *ep.NodeName == nodeName
	return e, true
}

// usable picks the endpoints traffic may go to: the ready ones or, when
// none is ready, the serving ones that are terminating. With localOnly,
// only this node's endpoints are considered.
func usable(eps []endpoint, localOnly bool) []endpoint {
	var ready, terminating []endpoint
	for _, e := range eps {
		if localOnly && !e.Local {
			continue
		}
		switch {
		case e.Ready && !e.Terminating:
			ready = append(ready, e)
		case e.Serving && e.Terminating:
			terminating = append(terminating, e)
		}
	}
	if len(ready) > 0 {
		return ready
	}
	return terminating
}

// sortEndpoints orders endpoints by numeric address, then port.
func sortEndpoints(eps []endpoint) {
	slices.SortFunc(eps, func(a, b endpoint) int {
		if c := a.Addr.Compare(b.Addr); c != 0 {
			return c
		}
		return cmp.Compare(a.Port, b.Port)
	})
}

// protocolOf defaults an unset protocol to TCP.
func protocolOf(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// parseIPv4 parses an IPv4 address, accepting the IPv4-mapped IPv6 form.
func parseIPv4(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	return a, a.Is4()
}
