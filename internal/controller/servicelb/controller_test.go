package servicelb

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func node(name, ip string, readyStatus corev1.ConditionStatus, unschedulable bool) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.NodeSpec{Unschedulable: unschedulable},
		Status: corev1.NodeStatus{
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: readyStatus}},
		}}
}

func service(typ corev1.ServiceType, class *string, ingress ...string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: corev1.ServiceSpec{Type: typ, LoadBalancerClass: class}}
	vip := corev1.LoadBalancerIPModeVIP
	for _, ip := range ingress {
		s.Status.LoadBalancer.Ingress = append(s.Status.LoadBalancer.Ingress, corev1.LoadBalancerIngress{IP: ip, IPMode: &vip})
	}
	return s
}

func ips(in []corev1.LoadBalancerIngress) []string {
	var out []string
	for _, i := range in {
		out = append(out, i.IP)
	}
	return out
}

func TestIngress(t *testing.T) {
	other := "example.com/lb"
	nodes := []*corev1.Node{
		node("b", "10.0.0.2", corev1.ConditionTrue, false),
		node("a", "10.0.0.1", corev1.ConditionTrue, false),
		node("down", "10.0.0.3", corev1.ConditionUnknown, false),
		node("cordoned", "10.0.0.4", corev1.ConditionTrue, true),
		node("dup", "10.0.0.1", corev1.ConditionTrue, false),
	}
	tests := []struct {
		name string
		svc  *corev1.Service
		want []string
	}{
		{"load balancer gets the ready schedulable nodes, sorted", service(corev1.ServiceTypeLoadBalancer, nil), []string{"10.0.0.1", "10.0.0.2"}},
		{"another class is left alone", service(corev1.ServiceTypeLoadBalancer, &other, "1.2.3.4"), []string{"1.2.3.4"}},
		{"not a load balancer", service(corev1.ServiceTypeNodePort, nil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ips(Ingress(tt.svc, nodes)); !apiequality.Semantic.DeepEqual(got, tt.want) {
				t.Errorf("ingress %v, want %v", got, tt.want)
			}
		})
	}
	if got := Ingress(service(corev1.ServiceTypeLoadBalancer, nil), nil); got != nil {
		t.Errorf("no nodes: ingress %v, want none (pending)", got)
	}
}

// TestSync: one sync writes the status when it differs and nothing when
// it is current.
func TestSync(t *testing.T) {
	tests := []struct {
		name       string
		svc        *corev1.Service
		wantUpdate []string // nil: no write
	}{
		{"pending service gets addresses", service(corev1.ServiceTypeLoadBalancer, nil), []string{"10.0.0.1", "10.0.0.2"}},
		{"stale addresses are replaced", service(corev1.ServiceTypeLoadBalancer, nil, "10.0.0.9"), []string{"10.0.0.1", "10.0.0.2"}},
		{"current addresses: no write", service(corev1.ServiceTypeLoadBalancer, nil, "10.0.0.1", "10.0.0.2"), nil},
		{"ClusterIP: no write", service(corev1.ServiceTypeClusterIP, nil), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := []*corev1.Node{node("a", "10.0.0.1", corev1.ConditionTrue, false), node("b", "10.0.0.2", corev1.ConditionTrue, false)}
			client := fake.NewSimpleClientset(tt.svc)
			factory := informers.NewSharedInformerFactory(client, 0)
			svcInf, nodeInf := factory.Core().V1().Services(), factory.Core().V1().Nodes()
			c, err := New(Config{Client: client, Services: svcInf, Nodes: nodeInf})
			if err != nil {
				t.Fatal(err)
			}
			if err := svcInf.Informer().GetIndexer().Add(tt.svc); err != nil {
				t.Fatal(err)
			}
			for _, n := range nodes {
				if err := nodeInf.Informer().GetIndexer().Add(n); err != nil {
					t.Fatal(err)
				}
			}
			client.ClearActions()
			if err := c.sync(context.Background(), "default/web"); err != nil {
				t.Fatal(err)
			}
			var updates []k8stesting.UpdateAction
			for _, a := range client.Actions() {
				if u, ok := a.(k8stesting.UpdateAction); ok && a.GetSubresource() == "status" {
					updates = append(updates, u)
				} else {
					t.Errorf("unexpected action %s %s/%s", a.GetVerb(), a.GetResource().Resource, a.GetSubresource())
				}
			}
			if tt.wantUpdate == nil {
				if len(updates) != 0 {
					t.Errorf("%d status writes, want none", len(updates))
				}
				return
			}
			if len(updates) != 1 {
				t.Fatalf("%d status writes, want 1", len(updates))
			}
			got := updates[0].GetObject().(*corev1.Service)
			if ips := ips(got.Status.LoadBalancer.Ingress); !apiequality.Semantic.DeepEqual(ips, tt.wantUpdate) {
				t.Errorf("ingress written %v, want %v", ips, tt.wantUpdate)
			}
		})
	}
}
