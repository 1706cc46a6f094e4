package endpoints

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// Upstream's limits: an Endpoints object holds at most MaxEndpoints
// addresses; an EndpointSlice at most MaxEndpointsPerSlice endpoints.
const (
	MaxEndpoints         = 1000
	MaxEndpointsPerSlice = 100
)

// Backend is one pod backing a Service, with the Service ports it serves.
type Backend struct {
	Pod *corev1.Pod
	// Ready is true when the pod counts as ready for the Service
	// (pod Ready, or the Service publishes not-ready addresses).
	Ready bool
	// Serving is the pod's own readiness, whether or not it terminates.
	Serving bool
	// Terminating is true when the pod is being deleted.
	Terminating bool
	// Ports are the Service's ports resolved against the pod's containers.
	Ports []discoveryv1.EndpointPort
}

// Backends returns the pods that back svc, in a stable order (by name):
// pods with an IP, not finished. Terminating pods are included only when
// includeTerminating is true (EndpointSlices carry them, Endpoints not,
// unless the Service publishes not-ready addresses).
func Backends(svc *corev1.Service, pods []*corev1.Pod, includeTerminating bool) []Backend {
	var out []Backend
	for _, p := range pods {
		if p.Status.PodIP == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		terminating := p.DeletionTimestamp != nil
		if terminating && !includeTerminating && !svc.Spec.PublishNotReadyAddresses {
			continue
		}
		ports := resolvePorts(svc, p)
		if len(ports) == 0 && len(svc.Spec.Ports) > 0 {
			continue // none of the Service's ports exists on this pod
		}
		serving := podReady(p)
		out = append(out, Backend{
			Pod:         p,
			Ready:       svc.Spec.PublishNotReadyAddresses || (serving && !terminating),
			Serving:     serving || svc.Spec.PublishNotReadyAddresses,
			Terminating: terminating,
			Ports:       ports,
		})
	}
	slices.SortFunc(out, func(a, b Backend) int { return cmp.Compare(a.Pod.Name, b.Pod.Name) })
	return out
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// resolvePorts maps each Service port to the pod's port: a numeric
// targetPort as is, a named one through the containers' ports.
func resolvePorts(svc *corev1.Service, p *corev1.Pod) []discoveryv1.EndpointPort {
	var out []discoveryv1.EndpointPort
	for _, sp := range svc.Spec.Ports {
		port, ok := findPort(p, sp)
		if !ok {
			continue
		}
		out = append(out, discoveryv1.EndpointPort{
			Name:        ptr.To(sp.Name),
			Port:        ptr.To(port),
			Protocol:    ptr.To(cmp.Or(sp.Protocol, corev1.ProtocolTCP)),
			AppProtocol: sp.AppProtocol,
		})
	}
	return out
}

func findPort(p *corev1.Pod, sp corev1.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	switch {
	case tp.Type == intstr.String && tp.StrVal != "":
		proto := cmp.Or(sp.Protocol, corev1.ProtocolTCP)
		for _, cs := range [][]corev1.Container{p.Spec.Containers, p.Spec.InitContainers} {
			for _, c := range cs {
				for _, cp := range c.Ports {
					if cp.Name == tp.StrVal && cmp.Or(cp.Protocol, corev1.ProtocolTCP) == proto {
						return cp.ContainerPort, true
					}
				}
			}
		}
		return 0, false
	case tp.Type == intstr.Int && tp.IntVal != 0:
		return tp.IntVal, true
	}
	return sp.Port, true
}

// portsKey identifies a set of ports, to group endpoints that share it.
func portsKey(ports []discoveryv1.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%d/%s/%s;", ptr.Deref(p.Name, ""), ptr.Deref(p.Port, 0), ptr.Deref(p.Protocol, ""), ptr.Deref(p.AppProtocol, ""))
	}
	return b.String()
}

// hostnameFor is the DNS hostname an endpoint gets: the pod's
// spec.hostname when its subdomain names the Service.
func hostnameFor(svc *corev1.Service, p *corev1.Pod) string {
	if p.Spec.Hostname != "" && p.Spec.Subdomain == svc.Name && svc.Namespace == p.Namespace {
		return p.Spec.Hostname
	}
	return ""
}
