package registry

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// EndpointSlice limits upstream enforces.
const (
	sliceMaxEndpoints      = 1000
	sliceMaxAddresses      = 100
	sliceMaxPorts          = 20000
	sliceMaxTopologyLabels = 16
	sliceMaxHints          = 8
)

// endpointSliceStrategy is the strategy of discovery.k8s.io/v1
// EndpointSlices.
func endpointSliceStrategy() Strategy {
	return Typed[*discoveryv1.EndpointSlice]{
		DefaultFunc: defaultEndpointSlice,
		ValidateFunc: func(es *discoveryv1.EndpointSlice) field.ErrorList {
			errs := validateSliceAddressType(es.AddressType)
			return append(errs, validateEndpointSlice(es)...)
		},
		ValidateUpdateFunc: func(es, old *discoveryv1.EndpointSlice) field.ErrorList {
			errs := validateEndpointSlice(es)
			return append(errs, validateImmutable(es.AddressType, old.AddressType, field.NewPath("addressType"))...)
		},
	}
}

// defaultEndpointSlice defaults port names to "" and protocols to TCP.
func defaultEndpointSlice(es *discoveryv1.EndpointSlice) {
	for i := range es.Ports {
		p := &es.Ports[i]
		if p.Name == nil {
			p.Name = ptr.To("")
		}
		if p.Protocol == nil {
			p.Protocol = ptr.To(corev1.ProtocolTCP)
		}
	}
}

func validateSliceAddressType(t discoveryv1.AddressType) field.ErrorList {
	p := field.NewPath("addressType")
	switch t {
	case "":
		return field.ErrorList{field.Required(p, "")}
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
		return nil
	default:
		return field.ErrorList{field.NotSupported(p, t, []string{
			string(discoveryv1.AddressTypeFQDN), string(discoveryv1.AddressTypeIPv4), string(discoveryv1.AddressTypeIPv6)})}
	}
}

func validateEndpointSlice(es *discoveryv1.EndpointSlice) field.ErrorList {
	errs := validateSliceEndpoints(es.Endpoints, es.AddressType, field.NewPath("endpoints"))
	return append(errs, validateSlicePorts(es.Ports, field.NewPath("ports"))...)
}

func validateSliceEndpoints(eps []discoveryv1.Endpoint, t discoveryv1.AddressType, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(eps) > sliceMaxEndpoints {
		errs = append(errs, field.TooMany(p, len(eps), sliceMaxEndpoints))
	}
	for i := range eps {
		ep := &eps[i]
		ip := p.Index(i)
		ap := ip.Child("addresses")
		if len(ep.Addresses) == 0 {
			errs = append(errs, field.Required(ap, "must contain at least 1 address"))
		} else if len(ep.Addresses) > sliceMaxAddresses {
			errs = append(errs, field.TooMany(ap, len(ep.Addresses), sliceMaxAddresses))
		}
		for j, addr := range ep.Addresses {
			errs = append(errs, validateSliceAddress(addr, t, ap.Index(j))...)
		}
		if ep.NodeName != nil {
			for _, msg := range validation.IsDNS1123Subdomain(*ep.NodeName) {
				errs = append(errs, field.Invalid(ip.Child("nodeName"), *ep.NodeName, msg))
			}
		}
		tp := ip.Child("deprecatedTopology")
		if len(ep.DeprecatedTopology) > sliceMaxTopologyLabels {
			errs = append(errs, field.TooMany(tp, len(ep.DeprecatedTopology), sliceMaxTopologyLabels))
		}
		errs = append(errs, metav1validation.ValidateLabels(ep.DeprecatedTopology, tp)...)
		if ep.Hostname != nil {
			for _, msg := range validation.IsDNS1123Label(*ep.Hostname) {
				errs = append(errs, field.Invalid(ip.Child("hostname"), *ep.Hostname, msg))
			}
		}
		if ep.Hints != nil {
			errs = append(errs, validateSliceHints(ep.Hints, ip.Child("hints"))...)
		}
	}
	return errs
}

// validateSliceAddress checks an address against the slice's type. IPs
// must be of the right family and usable as endpoints (not unspecified,
// loopback or link-local). Unknown types are not checked.
func validateSliceAddress(addr string, t discoveryv1.AddressType, p *field.Path) field.ErrorList {
	switch t {
	case discoveryv1.AddressTypeFQDN:
		return validation.IsFullyQualifiedDomainName(p, addr)
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
	default:
		return nil
	}
	if errs := validation.IsValidIP(p, addr); len(errs) > 0 {
		return errs
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return field.ErrorList{field.Invalid(p, addr, "must be a valid IP address")}
	}
	var errs field.ErrorList
	if t == discoveryv1.AddressTypeIPv4 && !ip.Is4() {
		errs = append(errs, field.Invalid(p, addr, "must be an IPv4 address"))
	}
	if t == discoveryv1.AddressTypeIPv6 && !ip.Is6() {
		errs = append(errs, field.Invalid(p, addr, "must be an IPv6 address"))
	}
	switch {
	case ip.IsUnspecified():
		errs = append(errs, field.Invalid(p, addr, fmt.Sprintf("may not be unspecified (%v)", addr)))
	case ip.IsLoopback():
		errs = append(errs, field.Invalid(p, addr, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	case ip.IsLinkLocalUnicast():
		errs = append(errs, field.Invalid(p, addr, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	case ip.IsLinkLocalMulticast():
		errs = append(errs, field.Invalid(p, addr, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

func validateSliceHints(h *discoveryv1.EndpointHints, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	zp := p.Child("forZones")
	if len(h.ForZones) > sliceMaxHints {
		errs = append(errs, field.TooMany(zp, len(h.ForZones), sliceMaxHints))
	} else {
		seen := map[string]bool{}
		for i, z := range h.ForZones {
			np := zp.Index(i).Child("name")
			if seen[z.Name] {
				errs = append(errs, field.Duplicate(np, z.Name))
			}
			seen[z.Name] = true
			for _, msg := range validation.IsValidLabelValue(z.Name) {
				errs = append(errs, field.Invalid(np, z.Name, msg))
			}
		}
	}
	fp := p.Child("forNodes")
	if len(h.ForNodes) > sliceMaxHints {
		return append(errs, field.TooMany(fp, len(h.ForNodes), sliceMaxHints))
	}
	seen := map[string]bool{}
	for i, n := range h.ForNodes {
		np := fp.Index(i).Child("name")
		if seen[n.Name] {
			errs = append(errs, field.Duplicate(np, n.Name))
		}
		seen[n.Name] = true
		for _, msg := range validation.IsDNS1123Subdomain(n.Name) {
			errs = append(errs, field.Invalid(np, n.Name, msg))
		}
	}
	return errs
}

// validateSlicePorts checks names (unique DNS labels, "" allowed once),
// protocols and application protocols.
func validateSlicePorts(ports []discoveryv1.EndpointPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ports) > sliceMaxPorts {
		errs = append(errs, field.TooMany(p, len(ports), sliceMaxPorts))
	}
	names := map[string]bool{}
	for i, port := range ports {
		ip := p.Index(i)
		name := ptr.Deref(port.Name, "")
		if name != "" {
			for _, msg := range validation.IsDNS1123Label(name) {
				errs = append(errs, field.Invalid(ip.Child("name"), name, msg))
			}
		}
		if names[name] {
			errs = append(errs, field.Duplicate(ip.Child("name"), name))
		}
		names[name] = true
		switch {
		case port.Protocol == nil:
			errs = append(errs, field.Required(ip.Child("protocol"), ""))
		case *port.Protocol != corev1.ProtocolTCP && *port.Protocol != corev1.ProtocolUDP && *port.Protocol != corev1.ProtocolSCTP:
			errs = append(errs, field.NotSupported(ip.Child("protocol"), *port.Protocol, []string{
				string(corev1.ProtocolSCTP), string(corev1.ProtocolTCP), string(corev1.ProtocolUDP)}))
		}
		if port.Port != nil {
			for _, msg := range validation.IsValidPortNum(int(*port.Port)) {
				errs = append(errs, field.Invalid(ip.Child("port"), *port.Port, msg))
			}
		}
		if port.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*port.AppProtocol) {
				errs = append(errs, field.Invalid(ip.Child("appProtocol"), *port.AppProtocol, msg))
			}
		}
	}
	return errs
}
