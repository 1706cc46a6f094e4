package servicelb

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// Handles says whether the built-in load balancer serves svc: a
// LoadBalancer Service that names no other loadBalancerClass.
func Handles(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil
}

// Ingress is the status.loadBalancer.ingress svc should have: the
// InternalIPs of the ready, schedulable nodes (sorted), with the VIP
// mode; nil for Services the built-in load balancer does not serve. When
// no node qualifies the Service keeps no address (pending), as a cloud
// load balancer without backends would.
func Ingress(svc *corev1.Service, nodes []*corev1.Node) []corev1.LoadBalancerIngress {
	if !Handles(svc) {
		return svc.Status.LoadBalancer.Ingress // someone else's
	}
	var out []corev1.LoadBalancerIngress
	for _, ip := range NodeAddresses(nodes) {
		mode := corev1.LoadBalancerIPModeVIP
		out = append(out, corev1.LoadBalancerIngress{IP: ip, IPMode: &mode})
	}
	return out
}

// NodeAddresses are the InternalIPs of the ready, schedulable nodes,
// sorted and without duplicates.
func NodeAddresses(nodes []*corev1.Node) []string {
	var ips []string
	for _, n := range nodes {
		if n.Spec.Unschedulable || n.DeletionTimestamp != nil || !ready(n) {
			continue
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP && a.Address != "" {
				ips = append(ips, a.Address)
			}
		}
	}
	slices.Sort(ips)
	return slices.Compact(ips)
}

func ready(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
