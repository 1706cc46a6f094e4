package node

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// The kube-dns Service the node's DNS server backs (the server creates
// it, selectorless, with internalTrafficPolicy Local).
const (
	DNSServiceName      = "kube-dns"
	DNSServiceNamespace = metav1.NamespaceSystem
	// DNSSliceManagedBy is the managed-by label of the slices agents
	// publish for their DNS servers.
	DNSSliceManagedBy = "agent.skiff.io"
	// dnsRefresh is how often the slice is checked (and recreated if
	// someone deleted it).
	dnsRefresh = time.Minute
)

// DNSSliceName is the EndpointSlice a node publishes for its DNS server.
func DNSSliceName(node string) string { return DNSServiceName + "-" + node }

// dnsSlice is the EndpointSlice for a node's DNS server at ip:port, UDP
// and TCP, named after the kube-dns Service's ports.
func dnsSlice(node string, ip netip.Addr, port int32) *discoveryv1.EndpointSlice {
	family := discoveryv1.AddressTypeIPv4
	if ip.Is6() {
		family = discoveryv1.AddressTypeIPv6
	}
	ready := true
	udp, tcp := corev1.ProtocolUDP, corev1.ProtocolTCP
	dnsName, tcpName := "dns", "dns-tcp"
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Name: DNSSliceName(node), Namespace: DNSServiceNamespace,
			Labels: map[string]string{discoveryv1.LabelServiceName: DNSServiceName, discoveryv1.LabelManagedBy: DNSSliceManagedBy},
		},
		AddressType: family,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  []string{ip.String()},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
			NodeName:   &node,
		}},
		Ports: []discoveryv1.EndpointPort{
			{Name: &dnsName, Protocol: &udp, Port: &port},
			{Name: &tcpName, Protocol: &tcp, Port: &port},
		},
	}
}

// ensureSlice creates want, or updates the existing slice of its name
// when its labels, endpoints or ports differ.
func ensureSlice(ctx context.Context, client kubernetes.Interface, want *discoveryv1.EndpointSlice) error {
	api := client.DiscoveryV1().EndpointSlices(want.Namespace)
	have, err := api.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = api.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	if equality.Semantic.DeepEqual(have.Labels, want.Labels) && have.AddressType == want.AddressType &&
		equality.Semantic.DeepEqual(have.Endpoints, want.Endpoints) && equality.Semantic.DeepEqual(have.Ports, want.Ports) {
		return nil
	}
	if have.AddressType != want.AddressType {
		// The address type is immutable: replace the slice.
		if err := api.Delete(ctx, want.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		_, err = api.Create(ctx, want, metav1.CreateOptions{})
		return err
	}
	upd := have.DeepCopy()
	upd.Labels, upd.Endpoints, upd.Ports = want.Labels, want.Endpoints, want.Ports
	_, err = api.Update(ctx, upd, metav1.UpdateOptions{})
	return err
}

// publishDNSEndpoints keeps the node's DNS slice in place until ctx ends,
// then deletes it: a stopped agent serves no DNS, and the slice's owner is
// the only one who knows.
func publishDNSEndpoints(ctx context.Context, client kubernetes.Interface, slice *discoveryv1.EndpointSlice, logger *slog.Logger) {
	tick := time.NewTicker(dnsRefresh)
	defer tick.Stop()
	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			err := client.DiscoveryV1().EndpointSlices(slice.Namespace).Delete(dctx, slice.Name, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				logger.Warn("removing the node's DNS endpoint slice", "slice", slice.Name, "err", err)
			}
			return
		case <-tick.C:
		case <-retry.C:
		}
		if err := ensureSlice(ctx, client, slice); err != nil && ctx.Err() == nil {
			logger.Warn("publishing the node's DNS endpoint slice", "slice", slice.Name, "err", err)
			retry.Reset(2 * time.Second)
		}
	}
}

// dnsEndpointSlice returns the slice for the DNS server listening on
// listen ("ip:port").
func dnsEndpointSlice(node, listen string) (*discoveryv1.EndpointSlice, error) {
	ap, err := netip.ParseAddrPort(listen)
	if err != nil {
		return nil, fmt.Errorf("DNS listen address %q: %w", listen, err)
	}
	return dnsSlice(node, ap.Addr().Unmap(), int32(ap.Port())), nil
}
