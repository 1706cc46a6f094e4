package endpoints

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
)

// Labels identifying the EndpointSlices of a Service and who manages them.
const (
	ManagedBy          = "endpointslice-controller.k8s.io"
	MirroringManagedBy = "endpointslicemirroring-controller.k8s.io"
)

// SliceContent is what one EndpointSlice holds.
type SliceContent struct {
	AddressType discoveryv1.AddressType
	Ports       []discoveryv1.EndpointPort
	Endpoints   []discoveryv1.Endpoint
}

// key groups slices that may be reused for one another.
func (s SliceContent) key() string { return string(s.AddressType) + "|" + portsKey(s.Ports) }

// DesiredSlices is the content of a Service's EndpointSlices: per address
// family the Service uses and per distinct set of ports, the endpoints in
// chunks of at most MaxEndpointsPerSlice, in backend order. zoneOf gives a
// node's zone ("" if none). A Service without endpoints gets one empty
// slice, as upstream keeps a placeholder.
func DesiredSlices(svc *corev1.Service, backends []Backend, zoneOf func(node string) string) []SliceContent {
	var out []SliceContent
	for _, family := range addressTypes(svc) {
		groups := map[string]*SliceContent{}
		var order []string
		for _, b := range backends {
			ip := podIP(b.Pod, family)
			if ip == "" {
				continue
			}
			c := SliceContent{AddressType: family, Ports: b.Ports}
			k := c.key()
			g, ok := groups[k]
			if !ok {
				g = &c
				groups[k] = g
				order = append(order, k)
			}
			g.Endpoints = append(g.Endpoints, endpointOf(svc, b, ip, zoneOf))
		}
		for _, k := range order {
			g := groups[k]
			for start := 0; start < len(g.Endpoints); start += MaxEndpointsPerSlice {
				end := min(start+MaxEndpointsPerSlice, len(g.Endpoints))
				out = append(out, SliceContent{AddressType: family, Ports: g.Ports, Endpoints: g.Endpoints[start:end]})
			}
		}
	}
	if len(out) == 0 {
		out = append(out, SliceContent{AddressType: addressTypes(svc)[0]})
	}
	return out
}

func endpointOf(svc *corev1.Service, b Backend, ip string, zoneOf func(string) string) discoveryv1.Endpoint {
	ep := discoveryv1.Endpoint{
		Addresses: []string{ip},
		Conditions: discoveryv1.EndpointConditions{
			Ready:       ptr.To(b.Ready),
			Serving:     ptr.To(b.Serving),
			Terminating: ptr.To(b.Terminating),
		},
		NodeName:  nonEmpty(b.Pod.Spec.NodeName),
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: b.Pod.Namespace, Name: b.Pod.Name, UID: b.Pod.UID},
	}
	if h := hostnameFor(svc, b.Pod); h != "" {
		ep.Hostname = &h
	}
	if zoneOf != nil && b.Pod.Spec.NodeName != "" {
		ep.Zone = nonEmpty(zoneOf(b.Pod.Spec.NodeName))
	}
	return ep
}

// addressTypes are the families of the Service's slices: its ipFamilies,
// IPv4 when unset.
func addressTypes(svc *corev1.Service) []discoveryv1.AddressType {
	var out []discoveryv1.AddressType
	for _, f := range svc.Spec.IPFamilies {
		switch f {
		case corev1.IPv4Protocol:
			out = append(out, discoveryv1.AddressTypeIPv4)
		case corev1.IPv6Protocol:
			out = append(out, discoveryv1.AddressTypeIPv6)
		}
	}
	if len(out) == 0 {
		out = []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4}
	}
	return out
}

// podIP is the pod's address of the family, or "".
func podIP(p *corev1.Pod, family discoveryv1.AddressType) string {
	ips := []string{p.Status.PodIP}
	for _, pip := range p.Status.PodIPs {
		ips = append(ips, pip.IP)
	}
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		if a.Is4() == (family == discoveryv1.AddressTypeIPv4) {
			return s
		}
	}
	return ""
}
