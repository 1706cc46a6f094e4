package server_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

func TestKubeDNSIP(t *testing.T) {
	tests := []struct{ cidr, want string }{
		{"", "10.96.0.10"},
		{"10.96.0.0/12", "10.96.0.10"},
		{"10.43.0.0/16", "10.43.0.10"},
		{"10.0.0.5/24", "10.0.0.10"},
		{"10.100.0.0/16,fd00::/108", "10.100.0.10"},
		{"fd00:10::/108", "fd00:10::a"},
	}
	for _, tt := range tests {
		got, err := server.KubeDNSIP(tt.cidr)
		if err != nil || got.String() != tt.want {
			t.Errorf("KubeDNSIP(%q) = %v, %v; want %s", tt.cidr, got, err, tt.want)
		}
	}
	for _, bad := range []string{"10.0.0.0/29", "nonsense"} {
		if got, err := server.KubeDNSIP(bad); err == nil {
			t.Errorf("KubeDNSIP(%q) = %v, want an error", bad, got)
		}
	}
}

// TestKubeDNSService creates the kube-dns Service (twice: it is
// idempotent) and checks that a node may write its own DNS EndpointSlice
// and no other.
func TestKubeDNSService(t *testing.T) {
	srv := servertest.Start(t)
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	for range 2 {
		if err := server.EnsureKubeDNS(ctx, admin, ""); err != nil {
			t.Fatal(err)
		}
	}
	svc, err := admin.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.96.0.10" || len(svc.Spec.Selector) != 0 || len(svc.Spec.Ports) != 2 ||
		svc.Spec.InternalTrafficPolicy == nil || *svc.Spec.InternalTrafficPolicy != corev1.ServiceInternalTrafficPolicyLocal {
		t.Fatalf("kube-dns spec: %+v", svc.Spec)
	}
	nodeCfg, err := srv.ComponentConfig(server.ComponentNodePrefix + "n1")
	if err != nil {
		t.Fatal(err)
	}
	n1 := kubernetes.NewForConfigOrDie(nodeCfg)
	slice := func(name string) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: "kube-dns"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"192.168.77.2"}}},
		}
	}
	slices := n1.DiscoveryV1().EndpointSlices("kube-system")
	own, err := slices.Create(ctx, slice("kube-dns-n1"), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("node creating its DNS slice: %v", err)
	}
	if _, err := slices.Update(ctx, own, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("node updating its DNS slice: %v", err)
	}
	if _, err := admin.DiscoveryV1().EndpointSlices("kube-system").Create(ctx, slice("kube-dns-n2"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := slices.Delete(ctx, "kube-dns-n2", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("node deleting another node's slice: %v, want Forbidden", err)
	}
	if _, err := n1.DiscoveryV1().EndpointSlices("default").Create(ctx, slice("kube-dns-n1"), metav1.CreateOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("node creating a slice in default: %v, want Forbidden", err)
	}
	if err := slices.Delete(ctx, "kube-dns-n1", metav1.DeleteOptions{}); err != nil {
		t.Fatalf("node deleting its DNS slice: %v", err)
	}
}
