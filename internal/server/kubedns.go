package server

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// The cluster DNS Service: selectorless, since every agent answers DNS
// itself and publishes an EndpointSlice for its own server; with
// internalTrafficPolicy Local each node's pods reach their own node's.
const (
	KubeDNSName = "kube-dns"
	// kubeDNSIndex is the offset of its cluster IP in the service CIDR
	// (10.96.0.10 for 10.96.0.0/12), the address kubeadm clusters use.
	kubeDNSIndex = 10
	// nodeDNSEndpointsRole lets nodes write their DNS EndpointSlice; the
	// Node authorizer confines each to its own.
	nodeDNSEndpointsRole = "skiff:node-dns-endpoints"
)

// KubeDNSIP is the kube-dns Service's cluster IP: the 10th address of the
// first range of serviceCIDR ("" is the default 10.96.0.0/12).
func KubeDNSIP(serviceCIDR string) (netip.Addr, error) {
	if serviceCIDR == "" {
		serviceCIDR = "10.96.0.0/12"
	}
	first, _, _ := strings.Cut(serviceCIDR, ",")
	p, err := netip.ParsePrefix(strings.TrimSpace(first))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("service CIDR %q: %w", serviceCIDR, err)
	}
	ip := p.Masked().Addr()
	for range kubeDNSIndex {
		ip = ip.Next()
	}
	if !p.Contains(ip) {
		return netip.Addr{}, fmt.Errorf("service CIDR %s is too small for the kube-dns address", p)
	}
	return ip, nil
}

// kubeDNSService is the kube-dns Service for a cluster IP.
func kubeDNSService(ip netip.Addr) *corev1.Service {
	local := corev1.ServiceInternalTrafficPolicyLocal
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: KubeDNSName, Namespace: metav1.NamespaceSystem,
			Labels: map[string]string{"k8s-app": KubeDNSName, "kubernetes.io/name": "SkiffDNS"},
		},
		Spec: corev1.ServiceSpec{
			Type:                  corev1.ServiceTypeClusterIP,
			ClusterIP:             ip.String(),
			InternalTrafficPolicy: &local,
			Ports: []corev1.ServicePort{
				{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
				{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
			},
		},
	}
}

// EnsureKubeDNS creates the kube-dns Service in kube-system if it does
// not exist (an existing one, maybe edited by an admin, is left alone).
// bootstrap calls it once the system namespaces exist.
func EnsureKubeDNS(ctx context.Context, cs kubernetes.Interface, serviceCIDR string) error {
	ip, err := KubeDNSIP(serviceCIDR)
	if err != nil {
		return err
	}
	services := cs.CoreV1().Services(metav1.NamespaceSystem)
	// Look first: on a restart its cluster IP is allocated, so a create
	// would be refused as Invalid rather than AlreadyExists.
	_, err = services.Get(ctx, KubeDNSName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = services.Create(ctx, kubeDNSService(ip), metav1.CreateOptions{})
	}
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the kube-dns service: %w", err)
	}
	return nil
}

// nodeDNSEndpointsRBAC is the ClusterRole (and its binding to every node)
// letting agents publish the EndpointSlice of their DNS server.
func nodeDNSEndpointsRBAC() (*rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding) {
	role := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: nodeDNSEndpointsRole, Annotations: map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"}},
		Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"discovery.k8s.io"}, Resources: []string{"endpointslices"},
			Verbs: []string{"get", "create", "update", "delete"},
		}},
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: nodeDNSEndpointsRole, Annotations: map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"}},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: nodeDNSEndpointsRole},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:nodes"}},
	}
	return role, binding
}
