package endpoints

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func svc(mod func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Labels: map[string]string{"team": "a"}},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports: []corev1.ServicePort{
				{Name: "http", Port: 80, TargetPort: intstr.FromString("http")},
				{Name: "metrics", Port: 9090, TargetPort: intstr.FromInt32(9091)},
			},
		},
	}
	if mod != nil {
		mod(s)
	}
	return s
}

type podOpt func(*corev1.Pod)

func mkPod(name, ip string, ready bool, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{
			Name: "c", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip},
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func terminating(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)} }

func noNamedPort(p *corev1.Pod) { p.Spec.Containers[0].Ports = nil }

func TestDesiredSubsets(t *testing.T) {
	pods := []*corev1.Pod{
		mkPod("b", "10.0.0.2", true),
		mkPod("a", "10.0.0.1", false),
		mkPod("noip", "", true),
		mkPod("gone", "10.0.0.9", true, terminating),
		mkPod("done", "10.0.0.8", true, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
		mkPod("plain", "10.0.0.3", true, noNamedPort),
	}
	subsets, truncated := DesiredSubsets(svc(nil), Backends(svc(nil), pods, false))
	if truncated {
		t.Fatal("truncated")
	}
	got := fmt.Sprint(render(subsets))
	want := "[ready=[10.0.0.2] notready=[10.0.0.1] ports=[http:8080 metrics:9091] ready=[10.0.0.3] notready=[] ports=[metrics:9091]]"
	// Subsets are ordered by their port key: "http..." sorts before "metrics...".
	if got != want {
		t.Fatalf("subsets\n got %s\nwant %s", got, want)
	}
	pub := svc(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true })
	subsets, _ = DesiredSubsets(pub, Backends(pub, pods[:2], false))
	if got := fmt.Sprint(render(subsets)); got != "[ready=[10.0.0.1 10.0.0.2] notready=[] ports=[http:8080 metrics:9091]]" {
		t.Fatalf("publishNotReadyAddresses: %s", got)
	}
}

func render(ss []corev1.EndpointSubset) []string {
	var out []string
	for _, s := range ss {
		var r, n, p []string
		for _, a := range s.Addresses {
			r = append(r, a.IP)
		}
		for _, a := range s.NotReadyAddresses {
			n = append(n, a.IP)
		}
		for _, x := range s.Ports {
			p = append(p, fmt.Sprintf("%s:%d", x.Name, x.Port))
		}
		out = append(out, fmt.Sprintf("ready=%v notready=%v ports=%v", r, n, p))
	}
	return out
}

func TestDesiredSlices(t *testing.T) {
	var pods []*corev1.Pod
	for i := range 150 {
		pods = append(pods, mkPod(fmt.Sprintf("p%03d", i), fmt.Sprintf("10.0.%d.%d", i/200, i%200+1), i%2 == 0))
	}
	pods = append(pods, mkPod("zterm", "10.1.0.1", true, terminating))
	s := svc(nil)
	got := DesiredSlices(s, Backends(s, pods, true), func(string) string { return "zone-a" })
	if len(got) != 2 || len(got[0].Endpoints) != 100 || len(got[1].Endpoints) != 51 {
		t.Fatalf("want slices of 100 and 51 endpoints, got %d slices", len(got))
	}
	last := got[1].Endpoints[50]
	if last.Addresses[0] != "10.1.0.1" || *last.Conditions.Ready || !*last.Conditions.Serving || !*last.Conditions.Terminating {
		t.Fatalf("terminating endpoint %+v: want ready=false serving=true terminating=true", last)
	}
	first := got[0].Endpoints[0]
	if !*first.Conditions.Ready || ptr.Deref(first.Zone, "") != "zone-a" || ptr.Deref(first.NodeName, "") != "n1" || first.TargetRef.Name != "p000" {
		t.Fatalf("first endpoint %+v", first)
	}
	if got[0].AddressType != discoveryv1.AddressTypeIPv4 || len(got[0].Ports) != 2 || *got[0].Ports[0].Port != 8080 {
		t.Fatalf("slice ports %+v", got[0].Ports)
	}
	empty := DesiredSlices(s, nil, nil)
	if len(empty) != 1 || len(empty[0].Endpoints) != 0 {
		t.Fatalf("no backends: want one empty placeholder, got %+v", empty)
	}
}

func TestHostnameAndMirror(t *testing.T) {
	s := svc(func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone })
	p := mkPod("web-0", "10.0.0.5", true, func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = "web-0", "web" })
	subsets, _ := DesiredSubsets(s, Backends(s, []*corev1.Pod{p}, false))
	if subsets[0].Addresses[0].Hostname != "web-0" {
		t.Fatalf("hostname not set: %+v", subsets[0].Addresses[0])
	}
	if _, ok := serviceLabels(s)[LabelHeadless]; !ok {
		t.Fatal("headless label missing")
	}
	ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
		Addresses:         []corev1.EndpointAddress{{IP: "192.168.1.1"}, {IP: "fd00::1"}},
		NotReadyAddresses: []corev1.EndpointAddress{{IP: "192.168.1.2"}},
		Ports:             []corev1.EndpointPort{{Name: "x", Port: 5432, Protocol: corev1.ProtocolTCP}},
	}}}
	m := MirroredSlices(ep)
	if len(m) != 2 || m[0].AddressType != discoveryv1.AddressTypeIPv4 || len(m[0].Endpoints) != 2 || *m[0].Endpoints[1].Conditions.Ready || m[1].AddressType != discoveryv1.AddressTypeIPv6 {
		t.Fatalf("mirrored %+v", m)
	}
}
