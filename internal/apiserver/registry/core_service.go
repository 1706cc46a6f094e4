package registry

import (
	"net"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// Services get cluster IPs from an allocator outside the registry; the
// strategy only fills what upstream fills before allocation and copies
// allocated values forward on update.

func serviceStrategy() Strategy {
	return Typed[*corev1.Service]{
		DefaultFunc:          defaultService,
		PrepareForCreateFunc: prepareServiceCreate,
		PrepareForUpdateFunc: prepareServiceUpdate,
		ValidateFunc: func(svc *corev1.Service) field.ErrorList {
			return validateService(svc)
		},
		ValidateUpdateFunc: validateServiceUpdate,
	}
}

// needsClusterIP: every type but ExternalName has cluster IPs (or None).
func needsClusterIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName
}

// needsNodePorts: NodePort services, and LoadBalancer ones unless node
// port allocation is turned off.
func needsNodePorts(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

// externallyAccessible services may carry an externalTrafficPolicy.
func externallyAccessible(svc *corev1.Service) bool {
	t := svc.Spec.Type
	return t == corev1.ServiceTypeLoadBalancer || t == corev1.ServiceTypeNodePort ||
		(t == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

func isHeadless(svc *corev1.Service) bool {
	return svc.Spec.ClusterIP == corev1.ClusterIPNone || (len(svc.Spec.ClusterIPs) > 0 && svc.Spec.ClusterIPs[0] == corev1.ClusterIPNone)
}

// defaultService applies upstream's Service defaults.
func defaultService(svc *corev1.Service) {
	s := &svc.Spec
	if s.SessionAffinity == "" {
		s.SessionAffinity = corev1.ServiceAffinityNone
	}
	if s.SessionAffinity == corev1.ServiceAffinityClientIP && (s.SessionAffinityConfig == nil || s.SessionAffinityConfig.ClientIP == nil || s.SessionAffinityConfig.ClientIP.TimeoutSeconds == nil) {
		s.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(corev1.DefaultClientIPServiceAffinitySeconds)}}
	}
	if s.Type == "" {
		s.Type = corev1.ServiceTypeClusterIP
	}
	for i := range s.Ports {
		p := &s.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == (intstr.IntOrString{}) || (p.TargetPort.Type == intstr.String && p.TargetPort.StrVal == "") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if externallyAccessible(svc) && s.ExternalTrafficPolicy == "" {
		s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if s.InternalTrafficPolicy == nil && s.Type != corev1.ServiceTypeExternalName {
		s.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyCluster)
	}
	if s.Type == corev1.ServiceTypeLoadBalancer && s.AllocateLoadBalancerNodePorts == nil {
		s.AllocateLoadBalancerNodePorts = ptr.To(true)
	}
}

// normalizeClusterIPs keeps clusterIP and clusterIPs[0] in step.
func normalizeClusterIPs(s *corev1.ServiceSpec) {
	switch {
	case s.ClusterIP != "" && len(s.ClusterIPs) == 0:
		s.ClusterIPs = []string{s.ClusterIP}
	case s.ClusterIP == "" && len(s.ClusterIPs) > 0:
		s.ClusterIP = s.ClusterIPs[0]
	}
}

// defaultIPFamilies fills ipFamilyPolicy and ipFamilies the way upstream
// does on a single-stack IPv4 cluster: families follow given cluster IPs;
// selector-less headless services get RequireDualStack; ExternalName
// services have none.
func defaultIPFamilies(svc *corev1.Service) {
	s := &svc.Spec
	if !needsClusterIP(svc) {
		s.IPFamilyPolicy, s.IPFamilies = nil, nil
		return
	}
	if s.IPFamilyPolicy == nil {
		if isHeadless(svc) && len(s.Selector) == 0 {
			s.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicyRequireDualStack)
		} else {
			s.IPFamilyPolicy = ptr.To(corev1.IPFamilyPolicySingleStack)
		}
	}
	if len(s.IPFamilies) > 0 {
		return
	}
	for _, ip := range s.ClusterIPs {
		if parsed := net.ParseIP(ip); parsed != nil {
			s.IPFamilies = append(s.IPFamilies, ipFamilyOf(parsed))
		}
	}
	if len(s.IPFamilies) == 0 {
		s.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
	}
}

func ipFamilyOf(ip net.IP) corev1.IPFamily {
	if ip.To4() != nil {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

func prepareServiceCreate(svc *corev1.Service) {
	svc.Status = corev1.ServiceStatus{}
	normalizeClusterIPs(&svc.Spec)
	defaultIPFamilies(svc)
}

// prepareServiceUpdate carries allocated values (cluster IPs, node ports,
// health-check node port, IP families) over from the stored object when
// the update leaves them unset, and drops the ones the new type no longer
// uses.
func prepareServiceUpdate(svc, old *corev1.Service) {
	s, o := &svc.Spec, &old.Spec
	if needsClusterIP(old) && needsClusterIP(svc) {
		if s.ClusterIP == "" && len(s.ClusterIPs) == 0 {
			s.ClusterIP, s.ClusterIPs = o.ClusterIP, append([]string(nil), o.ClusterIPs...)
		}
		normalizeClusterIPs(s)
		if s.IPFamilyPolicy == nil {
			s.IPFamilyPolicy = o.IPFamilyPolicy
		}
		if len(s.IPFamilies) == 0 && s.ClusterIP == o.ClusterIP {
			s.IPFamilies = append([]corev1.IPFamily(nil), o.IPFamilies...)
		}
	}
	if needsClusterIP(old) && !needsClusterIP(svc) {
		// Leaving the cluster IP world: drop what the user merely carried
		// over from the stored object.
		if s.ClusterIP == o.ClusterIP && equalStrings(s.ClusterIPs, o.ClusterIPs) {
			s.ClusterIP, s.ClusterIPs = "", nil
		}
		if ptr.Equal(s.InternalTrafficPolicy, o.InternalTrafficPolicy) {
			s.InternalTrafficPolicy = nil
		}
	}
	normalizeClusterIPs(s)
	defaultIPFamilies(svc)
	carryNodePorts(svc, old)
	if s.Type != corev1.ServiceTypeLoadBalancer && o.Type == corev1.ServiceTypeLoadBalancer {
		if ptr.Equal(s.AllocateLoadBalancerNodePorts, o.AllocateLoadBalancerNodePorts) {
			s.AllocateLoadBalancerNodePorts = nil
		}
		if ptr.Equal(s.LoadBalancerClass, o.LoadBalancerClass) {
			s.LoadBalancerClass = nil
		}
	}
	if !externallyAccessible(svc) && s.ExternalTrafficPolicy == o.ExternalTrafficPolicy {
		s.ExternalTrafficPolicy = ""
	}
}

// needsHealthCheckPort: LoadBalancer services with a Local external
// traffic policy.
func needsHealthCheckPort(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// carryNodePorts copies allocated node ports (matched by port and
// protocol) and the health-check node port into an update that left them
// unset, and drops them when the new type no longer uses them.
func carryNodePorts(svc, old *corev1.Service) {
	s, o := &svc.Spec, &old.Spec
	if needsNodePorts(old) && needsNodePorts(svc) {
		for i := range s.Ports {
			if s.Ports[i].NodePort != 0 {
				continue
			}
			for _, op := range o.Ports {
				if op.Port == s.Ports[i].Port && op.Protocol == s.Ports[i].Protocol {
					s.Ports[i].NodePort = op.NodePort
				}
			}
		}
	}
	if !needsNodePorts(svc) && needsNodePorts(old) {
		for i := range s.Ports {
			for _, op := range o.Ports {
				if s.Ports[i].NodePort == op.NodePort {
					s.Ports[i].NodePort = 0
				}
			}
		}
	}
	if needsHealthCheckPort(svc) && needsHealthCheckPort(old) && s.HealthCheckNodePort == 0 {
		s.HealthCheckNodePort = o.HealthCheckNodePort
	}
	if !needsHealthCheckPort(svc) && s.HealthCheckNodePort == o.HealthCheckNodePort {
		s.HealthCheckNodePort = 0
	}
}
