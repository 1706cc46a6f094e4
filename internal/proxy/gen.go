package proxy

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// This file makes the objects of benchmarks and tests.

// testService is a ClusterIP Service in "default" with one TCP port
// "http" 80 → 8080.
func testService(name, clusterIP string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: clusterIP, ClusterIPs: []string{clusterIP},
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

// testSlice is the EndpointSlice of a testService with ready endpoints at
// the addresses, on node-a, port 8080.
func testSlice(service string, addrs ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: service + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: service}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](8080)}},
	}
	for _, a := range addrs {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{a},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To("node-a"),
		})
	}
	return s
}

// genObjects makes n Services with m endpoints each: cluster IPs from
// 10.96.0.10, endpoints from 10.128.0.1, with UIDs and resource versions
// so that a rules.Computer can tell them unchanged.
func genObjects(n, m int) ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	svcs := make([]*corev1.Service, n)
	slices := make([]*discoveryv1.EndpointSlice, n)
	for i := range n {
		name := "svc-" + strconv.Itoa(i)
		svcs[i] = testService(name, ipAt(10, 96, i+10))
		svcs[i].UID, svcs[i].ResourceVersion = types.UID("uid-"+name), "1"
		addrs := make([]string, m)
		for j := range m {
			addrs[j] = ipAt(10, 128, i*m+j+1)
		}
		slices[i] = testSlice(name, addrs...)
		slices[i].UID, slices[i].ResourceVersion = types.UID("uid-"+name+"-1"), "1"
	}
	return svcs, slices
}

// ipAt returns the address a.b.0.0 + i.
func ipAt(a, b, i int) string {
	return strconv.Itoa(a) + "." + strconv.Itoa(b+i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255)
}
