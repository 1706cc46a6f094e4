package endpoints

import (
	"cmp"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
)

// Labels and annotations upstream puts on what these controllers write.
const (
	LabelHeadless       = "service.kubernetes.io/headless"
	AnnotationTruncated = "endpoints.kubernetes.io/over-capacity"
	LabelSkipMirror     = "endpointslice.kubernetes.io/skip-mirror"
)

// DesiredSubsets is the content of a Service's Endpoints: one subset per
// distinct set of ports, ready addresses and not-ready ones apart, sorted.
// At most MaxEndpoints addresses are kept (ready ones first); truncated
// tells whether some were dropped.
func DesiredSubsets(svc *corev1.Service, backends []Backend) (subsets []corev1.EndpointSubset, truncated bool) {
	type group struct {
		ports           []discoveryv1.EndpointPort
		ready, notReady []corev1.EndpointAddress
	}
	groups := map[string]*group{}
	var keys []string
	total := 0
	// Ready addresses first so that truncation drops not-ready ones.
	for _, wantReady := range []bool{true, false} {
		for _, b := range backends {
			if b.Ready != wantReady {
				continue
			}
			if total == MaxEndpoints {
				truncated = true
				continue
			}
			k := portsKey(b.Ports)
			g, ok := groups[k]
			if !ok {
				g = &group{ports: b.Ports}
				groups[k] = g
				keys = append(keys, k)
			}
			addr := corev1.EndpointAddress{
				IP:       b.Pod.Status.PodIP,
				Hostname: hostnameFor(svc, b.Pod),
				NodeName: nonEmpty(b.Pod.Spec.NodeName),
				TargetRef: &corev1.ObjectReference{
					Kind: "Pod", Namespace: b.Pod.Namespace, Name: b.Pod.Name, UID: b.Pod.UID,
				},
			}
			if b.Ready {
				g.ready = append(g.ready, addr)
			} else {
				g.notReady = append(g.notReady, addr)
			}
			total++
		}
	}
	slices.Sort(keys)
	byIP := func(a, b corev1.EndpointAddress) int { return cmp.Compare(a.IP, b.IP) }
	for _, k := range keys {
		g := groups[k]
		slices.SortFunc(g.ready, byIP)
		slices.SortFunc(g.notReady, byIP)
		s := corev1.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady}
		for _, p := range g.ports {
			s.Ports = append(s.Ports, corev1.EndpointPort{
				Name: ptr.Deref(p.Name, ""), Port: ptr.Deref(p.Port, 0),
				Protocol: ptr.Deref(p.Protocol, corev1.ProtocolTCP), AppProtocol: p.AppProtocol,
			})
		}
		subsets = append(subsets, s)
	}
	return subsets, truncated
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// serviceLabels are the labels objects derived from svc carry: the
// Service's own, plus the headless marker.
func serviceLabels(svc *corev1.Service) map[string]string {
	l := maps.Clone(svc.Labels)
	if l == nil {
		l = map[string]string{}
	}
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		l[LabelHeadless] = ""
	}
	return l
}
