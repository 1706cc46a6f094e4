package server

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// systemNamespaces exist in every cluster.
var systemNamespaces = []string{metav1.NamespaceDefault, metav1.NamespaceSystem, metav1.NamespacePublic, corev1.NamespaceNodeLease}

// bootstrap reconciles the default RBAC roles and bindings, creates the
// system namespaces and the kubernetes Service.
func bootstrap(ctx context.Context, cfg *rest.Config, sc Config) error {
	bc := withAgent(cfg, "skiff-bootstrap")
	// Some 150 requests (the default roles and bindings): client-go's
	// default 5 QPS would stretch start-up to half a minute.
	bc.QPS, bc.Burst = 1000, 1000
	cs, err := kubernetes.NewForConfig(bc)
	if err != nil {
		return fmt.Errorf("bootstrap client: %w", err)
	}
	if err := reconcileRBAC(ctx, cs); err != nil {
		return err
	}
	if err := EnsureSystemPriorityClasses(ctx, cs); err != nil {
		return err
	}
	for _, ns := range systemNamespaces {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating namespace %s: %w", ns, err)
		}
	}
	if err := EnsureKubeDNS(ctx, cs, sc.ServiceCIDR); err != nil {
		return err
	}
	ip, err := firstServiceIP(sc.ServiceCIDR)
	if err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: ip.String(),
			Ports:     []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(int32(sc.SecurePort))}},
		},
	}
	// Look first: on a restart the Service exists and its cluster IP is
	// allocated, so a create would be refused as Invalid, not AlreadyExists.
	services := cs.CoreV1().Services(metav1.NamespaceDefault)
	_, err = services.Get(ctx, svc.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = services.Create(ctx, svc, metav1.CreateOptions{})
	}
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the kubernetes service: %w", err)
	}
	return nil
}

func withAgent(cfg *rest.Config, agent string) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.UserAgent = agent
	return c
}

// leaseInterval is how often each API server renews its lease and
// reconciles the kubernetes Endpoints; a lease older than three intervals
// is dead.
const leaseInterval = 10 * time.Second

// apiserverLeaseLabel marks the leases of running API servers.
const apiserverLeaseLabel = "skiff.io/apiserver-endpoint"

// runKubernetesEndpoints keeps this server's lease fresh and the
// kubernetes Endpoints and EndpointSlice listing every live API server.
func runKubernetesEndpoints(ctx context.Context, cfg *rest.Config, sc Config) error {
	cs, err := kubernetes.NewForConfig(withAgent(cfg, "skiff-endpoints"))
	if err != nil {
		return fmt.Errorf("endpoints client: %w", err)
	}
	t := time.NewTicker(leaseInterval)
	defer t.Stop()
	for {
		if err := reconcileEndpoints(ctx, cs, sc, time.Now()); err != nil && ctx.Err() == nil {
			sc.Logger.Warn("reconciling the kubernetes endpoints", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func reconcileEndpoints(ctx context.Context, cs kubernetes.Interface, sc Config, now time.Time) error {
	leases := cs.CoordinationV1().Leases(metav1.NamespaceSystem)
	name := "skiff-apiserver-" + strings.NewReplacer(".", "-", ":", "-").Replace(sc.AdvertiseAddress)
	renew := metav1.NewMicroTime(now)
	holder := net.JoinHostPort(sc.AdvertiseAddress, fmt.Sprint(sc.SecurePort))
	seconds := int32(3 * leaseInterval / time.Second)
	l, err := leases.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{apiserverLeaseLabel: sc.AdvertiseAddress}},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &seconds, RenewTime: &renew},
		}, metav1.CreateOptions{})
	case err == nil:
		l.Spec.RenewTime = &renew
		l.Spec.HolderIdentity = &holder
		_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("renewing lease %s: %w", name, err)
	}
	list, err := leases.List(ctx, metav1.ListOptions{LabelSelector: apiserverLeaseLabel})
	if err != nil {
		return fmt.Errorf("listing API server leases: %w", err)
	}
	var ips []string
	for _, l := range list.Items {
		ip := l.Labels[apiserverLeaseLabel]
		if parsed := net.ParseIP(ip); parsed == nil || parsed.IsLoopback() {
			// Endpoints may not hold loopback addresses: a server
			// reachable only on loopback is not listed.
			continue
		}
		if l.Spec.RenewTime != nil && now.Sub(l.Spec.RenewTime.Time) < 3*leaseInterval {
			ips = append(ips, ip)
		}
	}
	sort.Strings(ips)
	return writeEndpoints(ctx, cs, ips, int32(sc.SecurePort))
}

// writeEndpoints makes the kubernetes Endpoints and EndpointSlice list ips.
func writeEndpoints(ctx context.Context, cs kubernetes.Interface, ips []string, port int32) error {
	addrs := make([]corev1.EndpointAddress, 0, len(ips))
	for _, ip := range ips {
		addrs = append(addrs, corev1.EndpointAddress{IP: ip})
	}
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}},
	}
	if len(addrs) > 0 {
		// A subset must have addresses.
		ep.Subsets = []corev1.EndpointSubset{{Addresses: addrs, Ports: []corev1.EndpointPort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}}}}
	}
	eps := cs.CoreV1().Endpoints(metav1.NamespaceDefault)
	cur, err := eps.Get(ctx, "kubernetes", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = eps.Create(ctx, ep, metav1.CreateOptions{})
	case err == nil:
		ep.ResourceVersion = cur.ResourceVersion
		_, err = eps.Update(ctx, ep, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("writing the kubernetes endpoints: %w", err)
	}
	ready := true
	endpoints := make([]discoveryv1.Endpoint, 0, len(ips))
	for _, ip := range ips {
		endpoints = append(endpoints, discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	name, proto := "https", corev1.ProtocolTCP
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes", discoveryv1.LabelManagedBy: "skiff-apiserver"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   endpoints,
		Ports:       []discoveryv1.EndpointPort{{Name: &name, Port: &port, Protocol: &proto}},
	}
	slices := cs.DiscoveryV1().EndpointSlices(metav1.NamespaceDefault)
	curSlice, err := slices.Get(ctx, "kubernetes", metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = slices.Create(ctx, slice, metav1.CreateOptions{})
	case err == nil:
		slice.ResourceVersion = curSlice.ResourceVersion
		_, err = slices.Update(ctx, slice, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("writing the kubernetes endpoint slice: %w", err)
	}
	return nil
}
