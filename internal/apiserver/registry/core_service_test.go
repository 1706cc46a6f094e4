package registry

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// coreService returns a valid ClusterIP service as created (defaulted and
// prepared, with an allocated IP).
func coreService() *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80}},
		},
	}
	s := serviceStrategy()
	s.Default(svc)
	s.PrepareForCreate(svc)
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "10.96.0.10", []string{"10.96.0.10"}
	return svc
}

func TestDefaultService(t *testing.T) {
	tests := []struct {
		name string
		in   corev1.ServiceSpec
		want corev1.ServiceSpec
	}{
		{"cluster ip", corev1.ServiceSpec{Selector: map[string]string{"a": "b"}, Ports: []corev1.ServicePort{{Port: 80}}}, corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, Selector: map[string]string{"a": "b"},
			Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
			InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
			IPFamilyPolicy:        ptr.To(corev1.IPFamilyPolicySingleStack), IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
		}},
		{"load balancer with client affinity", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, SessionAffinity: corev1.ServiceAffinityClientIP,
			Ports: []corev1.ServicePort{{Port: 443, TargetPort: intstr.FromString("https"), Protocol: corev1.ProtocolTCP}}}, corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, SessionAffinity: corev1.ServiceAffinityClientIP,
			SessionAffinityConfig:         &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(int32(10800))}},
			Ports:                         []corev1.ServicePort{{Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("https")}},
			ExternalTrafficPolicy:         corev1.ServiceExternalTrafficPolicyCluster,
			InternalTrafficPolicy:         ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
			AllocateLoadBalancerNodePorts: ptr.To(true),
			IPFamilyPolicy:                ptr.To(corev1.IPFamilyPolicySingleStack), IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
		}},
		{"headless without selector", corev1.ServiceSpec{ClusterIP: "None"}, corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, ClusterIP: "None", ClusterIPs: []string{"None"},
			InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
			IPFamilyPolicy:        ptr.To(corev1.IPFamilyPolicyRequireDualStack), IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
		}},
		{"requested IPv6 address", corev1.ServiceSpec{ClusterIP: "fd00::10", Ports: []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP}}}, corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, ClusterIP: "fd00::10", ClusterIPs: []string{"fd00::10"},
			Ports:                 []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)}},
			InternalTrafficPolicy: ptr.To(corev1.ServiceInternalTrafficPolicyCluster),
			IPFamilyPolicy:        ptr.To(corev1.IPFamilyPolicySingleStack), IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol},
		}},
		{"external name", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com"}, corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, ExternalName: "example.com", SessionAffinity: corev1.ServiceAffinityNone,
		}},
	}
	s := serviceStrategy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := &corev1.Service{Spec: tt.in}
			s.Default(svc)
			s.PrepareForCreate(svc)
			if !apiequality.Semantic.DeepEqual(svc.Spec, tt.want) {
				t.Errorf("spec differs (-want +got):\n%s", diff.Diff(tt.want, svc.Spec))
			}
			coreExpectErrs(t, s.Validate(svc))
		})
	}
}

func TestValidateService(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.Service)
		want   []string
	}{
		{"valid", func(*corev1.Service) {}, nil},
		{"no ports", func(s *corev1.Service) { s.Spec.Ports = nil }, []string{"Required spec.ports"}},
		{"headless without ports", func(s *corev1.Service) {
			s.Spec.Ports, s.Spec.ClusterIP, s.Spec.ClusterIPs = nil, "None", []string{"None"}
		}, nil},
		{"bad type", func(s *corev1.Service) { s.Spec.Type = "Internal" }, []string{"NotSupported spec.type"}},
		{"two ports without names", func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Port: 80, Protocol: "TCP", TargetPort: intstr.FromInt32(80)}, {Port: 81, Protocol: "TCP", TargetPort: intstr.FromInt32(81)}}
		}, []string{"Required spec.ports[0].name", "Required spec.ports[1].name"}},
		{"duplicate port names", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "http", Port: 81, Protocol: "TCP", TargetPort: intstr.FromInt32(81)})
		}, []string{"Duplicate spec.ports[1].name"}},
		{"duplicate port and protocol", func(s *corev1.Service) {
			s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "other", Port: 80, Protocol: "TCP", TargetPort: intstr.FromInt32(81)})
		}, []string{"Duplicate spec.ports[1]"}},
		{"port zero", func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 }, []string{"Invalid spec.ports[0].port"}},
		{"bad port name", func(s *corev1.Service) { s.Spec.Ports[0].Name = "HTTP" }, []string{"Invalid spec.ports[0].name"}},
		{"bad targetPort name", func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("no_such") }, []string{"Invalid spec.ports[0].targetPort"}},
		{"nodePort on ClusterIP", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 }, []string{"Forbidden spec.ports[0].nodePort"}},
		{"bad selector", func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "a b"} }, []string{"Invalid spec.selector"}},
		{"bad clusterIP", func(s *corev1.Service) { s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.96.0", []string{"10.96.0"} }, []string{"Invalid spec.clusterIPs[0]"}},
		{"clusterIP differs from clusterIPs", func(s *corev1.Service) { s.Spec.ClusterIP = "10.96.0.11" }, []string{"Invalid spec.clusterIPs[0]"}},
		{"headless NodePort", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ServiceTypeNodePort, "None", []string{"None"}
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		}, []string{"Invalid spec.clusterIPs[0]"}},
		{"ExternalName without name", func(s *corev1.Service) {
			s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, SessionAffinity: corev1.ServiceAffinityNone}
		}, []string{"Required spec.externalName"}},
		{"ExternalName with bad name", func(s *corev1.Service) {
			s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, SessionAffinity: corev1.ServiceAffinityNone, ExternalName: "not a host"}
		}, []string{"Invalid spec.externalName"}},
		{"ExternalName with cluster IP", func(s *corev1.Service) {
			s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "example.com."
		}, []string{"Forbidden spec.clusterIPs"}},
		{"affinity config with None", func(s *corev1.Service) {
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(int32(10))}}
		}, []string{"Invalid spec.sessionAffinityConfig"}},
		{"affinity timeout too long", func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To(int32(86401))}}
		}, []string{"Invalid spec.sessionAffinityConfig.clientIP.timeoutSeconds"}},
		{"bad session affinity", func(s *corev1.Service) { s.Spec.SessionAffinity = "Cookie" }, []string{"NotSupported spec.sessionAffinity"}},
		{"externalTrafficPolicy on ClusterIP", func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}, []string{"Invalid spec.externalTrafficPolicy"}},
		{"source ranges on ClusterIP", func(s *corev1.Service) { s.Spec.LoadBalancerSourceRanges = []string{"10.0.0.0/8"} }, []string{"Forbidden spec.loadBalancerSourceRanges"}},
		{"bad ip family", func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{"IPv5"} }, []string{"NotSupported spec.ipFamilies[0]"}},
		{"family does not match IP", func(s *corev1.Service) { s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} }, []string{"Invalid spec.clusterIPs[0]"}},
		{"valid NodePort", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 30080
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}, nil},
		{"externalIPs without traffic policy", func(s *corev1.Service) { s.Spec.ExternalIPs = []string{"192.0.2.1"} }, []string{"Required spec.externalTrafficPolicy"}},
		{"NodePort without traffic policy", func(s *corev1.Service) { s.Spec.Type = corev1.ServiceTypeNodePort }, []string{"Required spec.externalTrafficPolicy"}},
	}
	s := serviceStrategy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := coreService()
			tt.mutate(svc)
			coreExpectErrs(t, s.Validate(svc), tt.want...)
		})
	}
}

func TestServiceUpdate(t *testing.T) {
	s := serviceStrategy()
	t.Run("put without clusterIP keeps it", func(t *testing.T) {
		old := coreService()
		svc := &corev1.Service{ObjectMeta: old.ObjectMeta, Spec: corev1.ServiceSpec{Selector: old.Spec.Selector, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
		s.Default(svc)
		s.PrepareForUpdate(svc, old)
		coreExpectErrs(t, s.ValidateUpdate(svc, old))
		if svc.Spec.ClusterIP != "10.96.0.10" || len(svc.Spec.IPFamilies) != 1 {
			t.Errorf("clusterIP %q families %v, want carried over", svc.Spec.ClusterIP, svc.Spec.IPFamilies)
		}
	})
	t.Run("clusterIP is immutable", func(t *testing.T) {
		old := coreService()
		svc := old.DeepCopy()
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "10.96.0.11", []string{"10.96.0.11"}
		s.PrepareForUpdate(svc, old)
		coreExpectErrs(t, s.ValidateUpdate(svc, old), "Invalid spec.clusterIP", "Invalid spec.clusterIPs[0]")
	})
	t.Run("to ExternalName drops IPs", func(t *testing.T) {
		old := coreService()
		svc := old.DeepCopy()
		svc.Spec.Type, svc.Spec.ExternalName = corev1.ServiceTypeExternalName, "db.example.com"
		s.Default(svc)
		s.PrepareForUpdate(svc, old)
		coreExpectErrs(t, s.ValidateUpdate(svc, old))
		if svc.Spec.IPFamilies != nil || svc.Spec.IPFamilyPolicy != nil || svc.Spec.ClusterIP != "" || svc.Spec.InternalTrafficPolicy != nil {
			t.Errorf("clusterIP %q families %v policy %v itp %v, want none", svc.Spec.ClusterIP, svc.Spec.IPFamilies, svc.Spec.IPFamilyPolicy, svc.Spec.InternalTrafficPolicy)
		}
	})
	t.Run("NodePort keeps node ports, ClusterIP drops them", func(t *testing.T) {
		old := coreService()
		old.Spec.Type = corev1.ServiceTypeNodePort
		old.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		old.Spec.Ports[0].NodePort = 30080
		svc := old.DeepCopy()
		svc.Spec.Ports[0].NodePort = 0
		s.PrepareForUpdate(svc, old)
		if svc.Spec.Ports[0].NodePort != 30080 {
			t.Errorf("nodePort = %d, want carried over", svc.Spec.Ports[0].NodePort)
		}
		svc = old.DeepCopy()
		svc.Spec.Type = corev1.ServiceTypeClusterIP
		s.PrepareForUpdate(svc, old)
		coreExpectErrs(t, s.ValidateUpdate(svc, old))
		if svc.Spec.Ports[0].NodePort != 0 || svc.Spec.ExternalTrafficPolicy != "" {
			t.Errorf("nodePort %d etp %q, want dropped", svc.Spec.Ports[0].NodePort, svc.Spec.ExternalTrafficPolicy)
		}
	})
}
