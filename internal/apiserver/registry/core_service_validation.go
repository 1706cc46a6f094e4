package registry

import (
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxClientIPAffinitySeconds bounds sessionAffinityConfig timeouts (a day).
const maxClientIPAffinitySeconds = 86400

func validateService(svc *corev1.Service) field.ErrorList {
	s := &svc.Spec
	p := field.NewPath("spec")
	var errs field.ErrorList
	types := []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}
	switch {
	case s.Type == "":
		errs = append(errs, field.Required(p.Child("type"), ""))
	case !sets.New(types...).Has(s.Type):
		errs = append(errs, field.NotSupported(p.Child("type"), s.Type, types))
	}
	if len(s.Ports) == 0 && !isHeadless(svc) && s.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(p.Child("ports"), ""))
	}
	errs = append(errs, validateServiceType(svc, p)...)
	errs = append(errs, validateServicePorts(svc, p.Child("ports"))...)
	errs = append(errs, metav1validation.ValidateLabels(s.Selector, p.Child("selector"))...)
	errs = append(errs, validateSessionAffinity(s, p)...)
	errs = append(errs, validateClusterIPs(svc, p)...)
	errs = append(errs, validateTrafficPolicies(svc, p)...)
	for i, ip := range s.ExternalIPs {
		errs = append(errs, validation.IsValidIP(p.Child("externalIPs").Index(i), ip)...)
	}
	if d := s.TrafficDistribution; d != nil {
		supported := []string{corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameZone, corev1.ServiceTrafficDistributionPreferSameNode}
		if !sets.New(supported...).Has(*d) {
			errs = append(errs, field.NotSupported(p.Child("trafficDistribution"), *d, supported))
		}
	}
	return errs
}

// validateServiceType checks the fields tied to one service type.
func validateServiceType(svc *corev1.Service, p *field.Path) field.ErrorList {
	s := &svc.Spec
	var errs field.ErrorList
	if s.Type == corev1.ServiceTypeExternalName {
		if s.ClusterIP != "" || len(s.ClusterIPs) > 0 {
			errs = append(errs, field.Forbidden(p.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		// A trailing dot (fully qualified) is allowed.
		if name := strings.TrimSuffix(s.ExternalName, "."); name == "" {
			errs = append(errs, field.Required(p.Child("externalName"), ""))
		} else {
			for _, msg := range validation.IsDNS1123Subdomain(name) {
				errs = append(errs, field.Invalid(p.Child("externalName"), s.ExternalName, msg))
			}
		}
	}
	lb := s.Type == corev1.ServiceTypeLoadBalancer
	if isHeadless(svc) && (lb || s.Type == corev1.ServiceTypeNodePort) {
		errs = append(errs, field.Invalid(p.Child("clusterIPs").Index(0), corev1.ClusterIPNone, fmt.Sprintf("may not be set to 'None' for %s services", s.Type)))
	}
	if !lb {
		for _, f := range []struct {
			name string
			set  bool
		}{{"loadBalancerSourceRanges", len(s.LoadBalancerSourceRanges) > 0}, {"allocateLoadBalancerNodePorts", s.AllocateLoadBalancerNodePorts != nil},
			{"loadBalancerClass", s.LoadBalancerClass != nil}, {"loadBalancerIP", s.LoadBalancerIP != ""}} {
			if f.set {
				errs = append(errs, field.Forbidden(p.Child(f.name), "may only be used when `type` is 'LoadBalancer'"))
			}
		}
	} else if s.AllocateLoadBalancerNodePorts == nil {
		errs = append(errs, field.Required(p.Child("allocateLoadBalancerNodePorts"), ""))
	}
	for i, cidr := range s.LoadBalancerSourceRanges {
		errs = append(errs, validation.IsValidCIDR(p.Child("loadBalancerSourceRanges").Index(i), strings.TrimSpace(cidr))...)
	}
	if c := s.LoadBalancerClass; c != nil && lb {
		errs = append(errs, metav1validation.ValidateLabelName(*c, p.Child("loadBalancerClass"))...)
	}
	return errs
}

func validateServicePorts(svc *corev1.Service, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	ports := svc.Spec.Ports
	names, portKeys, nodePorts := sets.New[string](), sets.New[string](), sets.New[string]()
	for i, port := range ports {
		p := fldPath.Index(i)
		switch {
		case port.Name == "" && len(ports) > 1:
			errs = append(errs, field.Required(p.Child("name"), ""))
		case port.Name != "":
			for _, msg := range validation.IsDNS1123Label(port.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), port.Name, msg))
			}
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		for _, msg := range validation.IsValidPortNum(int(port.Port)) {
			errs = append(errs, field.Invalid(p.Child("port"), port.Port, msg))
		}
		errs = append(errs, validateProtocol(port.Protocol, p.Child("protocol"))...)
		errs = append(errs, validatePortOrName(port.TargetPort, p.Child("targetPort"))...)
		if port.AppProtocol != nil {
			errs = append(errs, metav1validation.ValidateLabelName(*port.AppProtocol, p.Child("appProtocol"))...)
		}
		key := fmt.Sprintf("%d/%s", port.Port, port.Protocol)
		if portKeys.Has(key) {
			errs = append(errs, field.Duplicate(p, key))
		}
		portKeys.Insert(key)
		if port.NodePort == 0 {
			continue
		}
		if svc.Spec.Type == corev1.ServiceTypeClusterIP || svc.Spec.Type == corev1.ServiceTypeExternalName {
			errs = append(errs, field.Forbidden(p.Child("nodePort"), fmt.Sprintf("may not be used when `type` is '%s'", svc.Spec.Type)))
		}
		errs = append(errs, validatePortNumber(port.NodePort, false, p.Child("nodePort"))...)
		nkey := fmt.Sprintf("%d/%s", port.NodePort, port.Protocol)
		if nodePorts.Has(nkey) {
			errs = append(errs, field.Duplicate(p.Child("nodePort"), port.NodePort))
		}
		nodePorts.Insert(nkey)
	}
	return errs
}

func validateSessionAffinity(s *corev1.ServiceSpec, p *field.Path) field.ErrorList {
	switch s.SessionAffinity {
	case corev1.ServiceAffinityNone:
		if s.SessionAffinityConfig != nil {
			return field.ErrorList{field.Invalid(p.Child("sessionAffinityConfig"), s.SessionAffinityConfig, fmt.Sprintf("must not be set when session affinity is %s", corev1.ServiceAffinityNone))}
		}
	case corev1.ServiceAffinityClientIP:
		cfg := s.SessionAffinityConfig
		tp := p.Child("sessionAffinityConfig", "clientIP", "timeoutSeconds")
		if cfg == nil || cfg.ClientIP == nil || cfg.ClientIP.TimeoutSeconds == nil {
			return field.ErrorList{field.Required(tp, "")}
		}
		if t := *cfg.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
			return field.ErrorList{field.Invalid(tp, t, fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds))}
		}
	case "":
		return field.ErrorList{field.Required(p.Child("sessionAffinity"), "")}
	default:
		return field.ErrorList{field.NotSupported(p.Child("sessionAffinity"), s.SessionAffinity, []corev1.ServiceAffinity{corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone})}
	}
	return nil
}

// validateClusterIPs checks cluster IPs against each other and against the
// IP families.
func validateClusterIPs(svc *corev1.Service, p *field.Path) field.ErrorList {
	s := &svc.Spec
	var errs field.ErrorList
	if len(s.ClusterIPs) > 0 && s.ClusterIP != s.ClusterIPs[0] {
		errs = append(errs, field.Invalid(p.Child("clusterIPs").Index(0), s.ClusterIPs[0], "must be equal to clusterIP"))
	}
	if len(s.ClusterIPs) > 2 {
		errs = append(errs, field.TooMany(p.Child("clusterIPs"), len(s.ClusterIPs), 2))
	}
	for i, ip := range s.ClusterIPs {
		ip := ip
		ipp := p.Child("clusterIPs").Index(i)
		if ip == corev1.ClusterIPNone {
			if i > 0 || len(s.ClusterIPs) > 1 {
				errs = append(errs, field.Invalid(ipp, ip, "'None' must be the first and only value"))
			}
			continue
		}
		if ipErrs := validation.IsValidIP(ipp, ip); len(ipErrs) > 0 {
			errs = append(errs, ipErrs...)
			continue
		}
		if i < len(s.IPFamilies) && knownFamily(s.IPFamilies[i]) && ipFamilyOf(net.ParseIP(ip)) != s.IPFamilies[i] {
			errs = append(errs, field.Invalid(ipp, ip, fmt.Sprintf("expected an %s value as indicated by `ipFamilies[%d]`", s.IPFamilies[i], i)))
		}
	}
	if len(s.ClusterIPs) == 2 && s.ClusterIPs[0] != corev1.ClusterIPNone && s.ClusterIPs[1] != corev1.ClusterIPNone {
		a, b := net.ParseIP(s.ClusterIPs[0]), net.ParseIP(s.ClusterIPs[1])
		if a != nil && b != nil && ipFamilyOf(a) == ipFamilyOf(b) {
			errs = append(errs, field.Invalid(p.Child("clusterIPs"), s.ClusterIPs, "may specify no more than one IP for each IP family"))
		}
	}
	return append(errs, validateIPFamilies(s, p)...)
}

func knownFamily(f corev1.IPFamily) bool {
	return f == corev1.IPv4Protocol || f == corev1.IPv6Protocol
}

func validateIPFamilies(s *corev1.ServiceSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if pol := s.IPFamilyPolicy; pol != nil {
		policies := []corev1.IPFamilyPolicy{corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack}
		if !sets.New(policies...).Has(*pol) {
			errs = append(errs, field.NotSupported(p.Child("ipFamilyPolicy"), *pol, policies))
		}
		if *pol == corev1.IPFamilyPolicySingleStack && len(s.IPFamilies) > 1 {
			errs = append(errs, field.Invalid(p.Child("ipFamilies"), s.IPFamilies, "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
		}
	}
	if len(s.IPFamilies) > 2 {
		errs = append(errs, field.TooMany(p.Child("ipFamilies"), len(s.IPFamilies), 2))
	}
	seen := sets.New[corev1.IPFamily]()
	for i, f := range s.IPFamilies {
		fp := p.Child("ipFamilies").Index(i)
		if !knownFamily(f) {
			errs = append(errs, field.NotSupported(fp, f, []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}))
		}
		if seen.Has(f) {
			errs = append(errs, field.Duplicate(fp, f))
		}
		seen.Insert(f)
	}
	return errs
}

func validateTrafficPolicies(svc *corev1.Service, p *field.Path) field.ErrorList {
	s := &svc.Spec
	var errs field.ErrorList
	etps := []corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal}
	switch {
	case !externallyAccessible(svc):
		if s.ExternalTrafficPolicy != "" {
			errs = append(errs, field.Invalid(p.Child("externalTrafficPolicy"), s.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
		}
	case s.ExternalTrafficPolicy == "":
		errs = append(errs, field.Required(p.Child("externalTrafficPolicy"), ""))
	case s.ExternalTrafficPolicy != "" && !sets.New(etps...).Has(s.ExternalTrafficPolicy):
		errs = append(errs, field.NotSupported(p.Child("externalTrafficPolicy"), s.ExternalTrafficPolicy, etps))
	}
	if s.HealthCheckNodePort != 0 {
		if !needsHealthCheckPort(svc) {
			errs = append(errs, field.Invalid(p.Child("healthCheckNodePort"), s.HealthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
		} else {
			errs = append(errs, validatePortNumber(s.HealthCheckNodePort, false, p.Child("healthCheckNodePort"))...)
		}
	}
	itps := []corev1.ServiceInternalTrafficPolicy{corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal}
	switch {
	case s.Type == corev1.ServiceTypeExternalName:
	case s.InternalTrafficPolicy == nil:
		errs = append(errs, field.Required(p.Child("internalTrafficPolicy"), ""))
	case !sets.New(itps...).Has(*s.InternalTrafficPolicy):
		errs = append(errs, field.NotSupported(p.Child("internalTrafficPolicy"), *s.InternalTrafficPolicy, itps))
	}
	return errs
}

// validateServiceUpdate adds the update rules: a service that keeps a
// cluster IP may not change it, nor its primary IP family.
func validateServiceUpdate(svc, old *corev1.Service) field.ErrorList {
	errs := validateService(svc)
	p := field.NewPath("spec")
	if needsClusterIP(old) && needsClusterIP(svc) && old.Spec.ClusterIP != "" {
		errs = append(errs, apimachineryvalidation.ValidateImmutableField(svc.Spec.ClusterIP, old.Spec.ClusterIP, p.Child("clusterIP"))...)
		if len(old.Spec.ClusterIPs) > 0 && len(svc.Spec.ClusterIPs) > 0 {
			errs = append(errs, apimachineryvalidation.ValidateImmutableField(svc.Spec.ClusterIPs[0], old.Spec.ClusterIPs[0], p.Child("clusterIPs").Index(0))...)
		}
		if len(old.Spec.IPFamilies) > 0 && len(svc.Spec.IPFamilies) > 0 {
			errs = append(errs, apimachineryvalidation.ValidateImmutableField(svc.Spec.IPFamilies[0], old.Spec.IPFamilies[0], p.Child("ipFamilies").Index(0))...)
		}
	}
	return errs
}
