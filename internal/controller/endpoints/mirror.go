package endpoints

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	coreinformers "k8s.io/client-go/informers/core/v1"
	discoveryinformers "k8s.io/client-go/informers/discovery/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// MirrorConfig is what the mirroring controller needs.
type MirrorConfig struct {
	// Client writes EndpointSlices.
	Client kubernetes.Interface
	// Services, Endpoints and EndpointSlices are shared informers.
	Services       coreinformers.ServiceInformer
	Endpoints      coreinformers.EndpointsInformer
	EndpointSlices discoveryinformers.EndpointSliceInformer
	// Logger receives failures; nil discards them.
	Logger *slog.Logger
}

// MirrorController copies the Endpoints of selectorless Services (written
// by users or other controllers) into EndpointSlices, so that consumers
// of slices (the proxy, DNS) see them too.
type MirrorController struct {
	// services and endpoints read the sources.
	services  corelisters.ServiceLister
	endpoints corelisters.EndpointsLister
	// slices reads the current mirrored slices.
	slices discoverylisters.EndpointSliceLister
	// writer writes the difference.
	writer sliceWriter
	// loop runs the workers.
	loop kit.Loop
}

// NewMirror builds the mirroring controller.
func NewMirror(cfg MirrorConfig) (*MirrorController, error) {
	if cfg.Client == nil || cfg.Services == nil || cfg.Endpoints == nil || cfg.EndpointSlices == nil {
		return nil, errors.New("endpointslice mirroring controller: client and informers are required")
	}
	q := kit.NewQueue("endpointslice-mirroring")
	c := &MirrorController{
		services:  cfg.Services.Lister(),
		endpoints: cfg.Endpoints.Lister(),
		slices:    cfg.EndpointSlices.Lister(),
		writer:    sliceWriter{client: cfg.Client, managedBy: MirroringManagedBy, expectations: kit.NewExpectations(nil)},
	}
	for _, inf := range []cache.SharedIndexInformer{cfg.Services.Informer(), cfg.Endpoints.Informer()} {
		if _, err := inf.AddEventHandler(kit.Handlers(q)); err != nil {
			return nil, fmt.Errorf("endpointslice mirroring controller: %w", err)
		}
	}
	if _, err := cfg.EndpointSlices.Informer().AddEventHandler(sliceHandlers(MirroringManagedBy, q, c.writer.expectations)); err != nil {
		return nil, fmt.Errorf("endpointslice mirroring controller: %w", err)
	}
	c.loop = kit.Loop{
		Name: "endpointslice-mirroring", Queue: q, Sync: c.sync, Logger: cfg.Logger,
		Synced: synced(cfg.Services.Informer(), cfg.Endpoints.Informer(), cfg.EndpointSlices.Informer()),
	}
	return c, nil
}

// Run runs workers until ctx is done.
func (c *MirrorController) Run(ctx context.Context, workers int) error {
	return c.loop.Run(ctx, workers)
}

func (c *MirrorController) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	if !c.writer.expectations.Satisfied(key) {
		return kit.RequeueAfter(sliceRecheck)
	}
	existing, err := managedSlices(c.slices, ns, name, MirroringManagedBy)
	if err != nil {
		return err
	}
	svc, err := c.services.Services(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.writer.expectations.Forget(key)
		return nil // owned slices go with the Service
	}
	if err != nil {
		return err
	}
	ep, err := c.endpoints.Endpoints(ns).Get(name)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if svc.Spec.Selector != nil || ep == nil || ep.Labels[LabelSkipMirror] == "true" {
		return c.writer.deleteAll(ctx, key, existing)
	}
	return c.writer.reconcile(ctx, svc, existing, MirroredSlices(ep))
}

// MirroredSlices converts an Endpoints object's subsets into slice
// contents: one group per subset and address family, chunked.
func MirroredSlices(ep *corev1.Endpoints) []SliceContent {
	var out []SliceContent
	for _, s := range ep.Subsets {
		var ports []discoveryv1.EndpointPort
		for _, p := range s.Ports {
			ports = append(ports, discoveryv1.EndpointPort{Name: ptr.To(p.Name), Port: ptr.To(p.Port), Protocol: ptr.To(p.Protocol), AppProtocol: p.AppProtocol})
		}
		byFamily := map[discoveryv1.AddressType][]discoveryv1.Endpoint{}
		add := func(a corev1.EndpointAddress, ready bool) {
			ip, err := netip.ParseAddr(a.IP)
			if err != nil {
				return
			}
			family := discoveryv1.AddressTypeIPv4
			if !ip.Is4() {
				family = discoveryv1.AddressTypeIPv6
			}
			e := discoveryv1.Endpoint{
				Addresses:  []string{a.IP},
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready), Serving: ptr.To(ready), Terminating: ptr.To(false)},
				NodeName:   a.NodeName,
				TargetRef:  a.TargetRef,
			}
			if a.Hostname != "" {
				e.Hostname = ptr.To(a.Hostname)
			}
			byFamily[family] = append(byFamily[family], e)
		}
		for _, a := range s.Addresses {
			add(a, true)
		}
		for _, a := range s.NotReadyAddresses {
			add(a, false)
		}
		for _, family := range []discoveryv1.AddressType{discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6} {
			eps := byFamily[family]
			for start := 0; start < len(eps); start += MaxEndpointsPerSlice {
				out = append(out, SliceContent{AddressType: family, Ports: ports, Endpoints: eps[start:min(start+MaxEndpointsPerSlice, len(eps))]})
			}
		}
	}
	return out
}
