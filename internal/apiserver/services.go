package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/skiffkube/skiff/internal/apiserver/allocator"
	"github.com/skiffkube/skiff/internal/storage"
)

// serviceAllocators hand out Service cluster IPs and node ports; their
// state lives in the store, so it survives restarts and is shared by every
// API server.
type serviceAllocators struct {
	ips   *allocator.IPAllocator
	ports *allocator.PortAllocator
}

// hooks are the Service life-cycle steps that allocate and release.
func (a *serviceAllocators) hooks() typeHooks {
	return typeHooks{
		beforeCreate: func(ctx context.Context, obj runtime.Object, _ bool) (func(), error) {
			return a.allocate(ctx, obj.(*corev1.Service), nil)
		},
		beforeUpdate: func(ctx context.Context, obj, old runtime.Object, _ bool) (func(), error) {
			return a.allocate(ctx, obj.(*corev1.Service), old.(*corev1.Service))
		},
		afterDelete: func(ctx context.Context, obj runtime.Object) {
			a.releaseAll(ctx, obj.(*corev1.Service))
		},
	}
}

// wantsClusterIP reports whether a Service gets a virtual IP.
func wantsClusterIP(s *corev1.Service) bool {
	return s.Spec.Type != corev1.ServiceTypeExternalName && s.Spec.ClusterIP != corev1.ClusterIPNone
}

// wantsNodePorts reports whether a Service's ports get node ports.
func wantsNodePorts(s *corev1.Service) bool {
	switch s.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return s.Spec.AllocateLoadBalancerNodePorts == nil || *s.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

// allocate gives svc what it needs that old (nil on create) did not hold,
// and releases what old held that svc no longer needs. The returned undo
// reverses both when the write fails.
func (a *serviceAllocators) allocate(ctx context.Context, svc, old *corev1.Service) (func(), error) {
	var got []func()
	undo := func() {
		for i := len(got) - 1; i >= 0; i-- {
			got[i]()
		}
	}
	fail := func(err error) (func(), error) {
		undo()
		return nil, err
	}
	// Cluster IP.
	oldIP := ""
	if old != nil && wantsClusterIP(old) {
		oldIP = old.Spec.ClusterIP
	}
	if wantsClusterIP(svc) {
		switch {
		case svc.Spec.ClusterIP == "" && oldIP != "":
			svc.Spec.ClusterIP = oldIP
		case svc.Spec.ClusterIP == "":
			ip, err := a.ips.AllocateNext(ctx)
			if err != nil {
				return fail(allocationError(svc, field.NewPath("spec", "clusterIPs"), nil, fmt.Errorf("failed to allocate a serviceIP: %w", err)))
			}
			svc.Spec.ClusterIP = ip.String()
			got = append(got, func() { _ = a.ips.Release(context.WithoutCancel(ctx), ip) })
		case svc.Spec.ClusterIP != oldIP:
			ip := net.ParseIP(svc.Spec.ClusterIP)
			if ip == nil {
				return fail(allocationError(svc, field.NewPath("spec", "clusterIPs").Index(0), svc.Spec.ClusterIP, errors.New("must be a valid IP address")))
			}
			if err := a.ips.Allocate(ctx, ip); err != nil {
				return fail(allocationError(svc, field.NewPath("spec", "clusterIPs"), []string{svc.Spec.ClusterIP}, fmt.Errorf("failed to allocate IP %s: %w", svc.Spec.ClusterIP, err)))
			}
			got = append(got, func() { _ = a.ips.Release(context.WithoutCancel(ctx), ip) })
		}
		svc.Spec.ClusterIPs = []string{svc.Spec.ClusterIP}
		if len(svc.Spec.IPFamilies) == 0 {
			svc.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol}
		}
		if svc.Spec.IPFamilyPolicy == nil {
			p := corev1.IPFamilyPolicySingleStack
			svc.Spec.IPFamilyPolicy = &p
		}
	} else if svc.Spec.Type == corev1.ServiceTypeExternalName {
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "", nil
	}
	if oldIP != "" && (!wantsClusterIP(svc) || svc.Spec.ClusterIP != oldIP) {
		ip := net.ParseIP(oldIP)
		if err := a.ips.Release(ctx, ip); err != nil {
			return fail(apierrors.NewInternalError(err))
		}
		got = append(got, func() { _ = a.ips.Allocate(context.WithoutCancel(ctx), ip) })
	}

	// Node ports.
	held := map[int32]bool{}
	if old != nil && wantsNodePorts(old) {
		for _, p := range old.Spec.Ports {
			if p.NodePort != 0 {
				held[p.NodePort] = true
			}
		}
	}
	keep := map[int32]bool{}
	if wantsNodePorts(svc) {
		byKey := map[string]int32{}
		if old != nil {
			for _, p := range old.Spec.Ports {
				byKey[fmt.Sprintf("%s/%d", p.Protocol, p.Port)] = p.NodePort
			}
		}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if p.NodePort == 0 {
				if prev := byKey[fmt.Sprintf("%s/%d", p.Protocol, p.Port)]; prev != 0 && held[prev] && !keep[prev] {
					p.NodePort = prev
				}
			}
			path := field.NewPath("spec", "ports").Index(i).Child("nodePort")
			switch {
			case p.NodePort == 0:
				n, err := a.ports.AllocateNext(ctx)
				if err != nil {
					return fail(allocationError(svc, path, nil, fmt.Errorf("failed to allocate a nodePort: %w", err)))
				}
				p.NodePort = int32(n)
				got = append(got, func() { _ = a.ports.Release(context.WithoutCancel(ctx), n) })
			case held[p.NodePort] || keep[p.NodePort]:
				// Already ours (or shared by two protocols of one port).
			default:
				n := int(p.NodePort)
				if err := a.ports.Allocate(ctx, n); err != nil {
					return fail(allocationError(svc, path, p.NodePort, fmt.Errorf("provided port is already allocated: %w", err)))
				}
				got = append(got, func() { _ = a.ports.Release(context.WithoutCancel(ctx), n) })
			}
			keep[p.NodePort] = true
		}
	} else {
		for i := range svc.Spec.Ports {
			svc.Spec.Ports[i].NodePort = 0
		}
	}
	for port := range held {
		if !keep[port] {
			n := int(port)
			if err := a.ports.Release(ctx, n); err != nil {
				return fail(apierrors.NewInternalError(err))
			}
			got = append(got, func() { _ = a.ports.Allocate(context.WithoutCancel(ctx), n) })
		}
	}
	return undo, nil
}

// releaseAll frees what a deleted Service held.
func (a *serviceAllocators) releaseAll(ctx context.Context, svc *corev1.Service) {
	ctx = context.WithoutCancel(ctx)
	if wantsClusterIP(svc) && svc.Spec.ClusterIP != "" {
		if ip := net.ParseIP(svc.Spec.ClusterIP); ip != nil {
			_ = a.ips.Release(ctx, ip)
		}
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			_ = a.ports.Release(ctx, int(p.NodePort))
		}
	}
}

// allocationError is the 422 upstream returns when an address or port
// cannot be had.
func allocationError(svc *corev1.Service, path *field.Path, value any, err error) error {
	if errors.Is(err, allocator.ErrFull) || errors.Is(err, allocator.ErrAllocated) || errors.Is(err, allocator.ErrNotInRange) || value == nil {
		return errInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), svc.Name, fieldErr(field.Invalid(path, value, err.Error())))
	}
	return apierrors.NewInternalError(err)
}

func newServiceAllocators(store storage.Store, cfg Config) (*serviceAllocators, error) {
	ips, err := allocator.NewIPAllocator(store, allocator.DefaultServiceIPKey, cfg.ServiceCIDR)
	if err != nil {
		return nil, fmt.Errorf("service IP allocator: %w", err)
	}
	ports, err := allocator.NewPortAllocator(store, allocator.DefaultNodePortKey, cfg.NodePortBase, cfg.NodePortSize)
	if err != nil {
		return nil, fmt.Errorf("node port allocator: %w", err)
	}
	return &serviceAllocators{ips: ips, ports: ports}, nil
}
