package webhook

import (
	"fmt"
	"net"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// EndpointFor picks the "host:port" of a ready endpoint serving port of
// svc among its EndpointSlices, the way a service proxy would route it: the
// Service port names the slice port; a Service without selector-managed
// slices has no endpoint.
func EndpointFor(svc *corev1.Service, slices []*discoveryv1.EndpointSlice, port int32) (string, error) {
	var sp *corev1.ServicePort
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].Port == port {
			sp = &svc.Spec.Ports[i]
			break
		}
	}
	if sp == nil {
		return "", fmt.Errorf("service %s/%s has no port %d", svc.Namespace, svc.Name, port)
	}
	for _, s := range slices {
		if s.Labels[discoveryv1.LabelServiceName] != svc.Name || s.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		target, ok := slicePort(s, sp.Name)
		if !ok {
			continue
		}
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) == 0 || (ep.Conditions.Ready != nil && !*ep.Conditions.Ready) {
				continue
			}
			return net.JoinHostPort(ep.Addresses[0], strconv.Itoa(int(target))), nil
		}
	}
	return "", fmt.Errorf("service %s/%s has no ready endpoint for port %d", svc.Namespace, svc.Name, port)
}

// slicePort is the number of the slice's port with the given name.
func slicePort(s *discoveryv1.EndpointSlice, name string) (int32, bool) {
	for _, p := range s.Ports {
		pn := ""
		if p.Name != nil {
			pn = *p.Name
		}
		if pn == name && p.Port != nil {
			return *p.Port, true
		}
	}
	return 0, false
}
