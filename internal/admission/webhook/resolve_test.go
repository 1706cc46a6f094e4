package webhook

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestEndpointFor(t *testing.T) {
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "hook", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "https", Port: 443}, {Name: "metrics", Port: 9090}}}}
	slice := func(svcName string, port string, num int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{discoveryv1.LabelServiceName: svcName}},
			AddressType: discoveryv1.AddressTypeIPv4, Endpoints: eps,
			Ports: []discoveryv1.EndpointPort{{Name: ptr.To(port), Port: ptr.To(num)}}}
	}
	ready := func(ip string, r bool) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(r)}}
	}
	cases := []struct {
		name    string
		slices  []*discoveryv1.EndpointSlice
		port    int32
		want    string
		wantErr bool
	}{
		{"ready endpoint", []*discoveryv1.EndpointSlice{slice("hook", "https", 8443, ready("10.0.0.1", true))}, 443, "10.0.0.1:8443", false},
		{"skips not ready", []*discoveryv1.EndpointSlice{slice("hook", "https", 8443, ready("10.0.0.1", false), ready("10.0.0.2", true))}, 443, "10.0.0.2:8443", false},
		{"port by name", []*discoveryv1.EndpointSlice{slice("hook", "https", 8443, ready("10.0.0.1", true)), slice("hook", "metrics", 9091, ready("10.0.0.3", true))}, 9090, "10.0.0.3:9091", false},
		{"other service's slice", []*discoveryv1.EndpointSlice{slice("other", "https", 8443, ready("10.0.0.1", true))}, 443, "", true},
		{"no ready endpoint", []*discoveryv1.EndpointSlice{slice("hook", "https", 8443, ready("10.0.0.1", false))}, 443, "", true},
		{"unknown service port", []*discoveryv1.EndpointSlice{slice("hook", "https", 8443, ready("10.0.0.1", true))}, 444, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := EndpointFor(svc, c.slices, c.port)
			if (err != nil) != c.wantErr || got != c.want {
				t.Errorf("EndpointFor = %q, %v; want %q (error %v)", got, err, c.want, c.wantErr)
			}
		})
	}
}
