package rules

import (
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// genInput builds n ClusterIP Services in namespace "ns", each with one
// TCP port and one EndpointSlice of eps ready endpoints spread over three
// nodes. Every fourth Service is a NodePort.
func genInput(n, eps int) Input {
	in := Input{
		NodeName:    "node-0",
		NodeIPs:     []net.IP{net.ParseIP("192.168.0.10")},
		ClusterCIDR: "10.128.0.0/9",
	}
	for i := range n {
		svc := genService(i)
		in.Services = append(in.Services, svc)
		in.Slices = append(in.Slices, genSlice(i, eps))
	}
	return in
}

func genService(i int) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: fmt.Sprintf("svc-%d", i)},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: fmt.Sprintf("10.96.%d.%d", i/250, i%250+1),
			Ports:     []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
		},
	}
	if i%4 == 0 {
		svc.Spec.Type = corev1.ServiceTypeNodePort
		svc.Spec.Ports[0].NodePort = int32(30000 + (i/4)%2768) // unique up to 11,072 Services
	}
	return svc
}

func genSlice(i, eps int) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: fmt.Sprintf("svc-%d-abc", i),
			Labels: map[string]string{discoveryv1.LabelServiceName: fmt.Sprintf("svc-%d", i)},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](8080)}},
	}
	for j := range eps {
		s.Endpoints = append(s.Endpoints, genEndpoint(fmt.Sprintf("10.%d.%d.%d", 128+j, i/250, i%250+1), j%3))
	}
	return s
}

func genEndpoint(ip string, node int) discoveryv1.Endpoint {
	return discoveryv1.Endpoint{
		Addresses:  []string{ip},
		Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
		NodeName:   ptr.To(fmt.Sprintf("node-%d", node)),
	}
}

// withSlice returns a copy of in where the slice at index i is replaced.
func withSlice(in Input, i int, s *discoveryv1.EndpointSlice) Input {
	out := in
	out.Slices = append([]*discoveryv1.EndpointSlice(nil), in.Slices...)
	out.Slices[i] = s
	return out
}
