package podautoscaler

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/scale"
)

// NewScaleClient returns a scale client for any resource with a scale
// subresource (found through discovery) and the REST mapper that resolves
// an HPA's scaleTargetRef kind to its resource.
func NewScaleClient(cfg *rest.Config) (scale.ScalesGetter, meta.RESTMapper, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("discovery client: %w", err)
	}
	cached := memory.NewMemCacheClient(dc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	scales, err := scale.NewForConfig(cfg, mapper, dynamic.LegacyAPIPathResolverFunc, scale.NewDiscoveryScaleKindResolver(cached))
	if err != nil {
		return nil, nil, fmt.Errorf("scale client: %w", err)
	}
	return scales, mapper, nil
}

// target is an HPA's resolved scale target.
type target struct {
	resource schema.GroupResource
	name     string
}

// resolveTarget maps the HPA's scaleTargetRef (apiVersion, kind) to a
// resource, trying each mapping the mapper knows for the kind.
func (c *Controller) resolveTarget(ref autoscalingv2.CrossVersionObjectReference) (target, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return target{}, fmt.Errorf("invalid API version in scale target reference: %w", err)
	}
	m, err := c.mapper.RESTMapping(schema.GroupKind{Group: gv.Group, Kind: ref.Kind}, gv.Version)
	if err != nil {
		if r, ok := c.mapper.(meta.ResettableRESTMapper); ok {
			r.Reset() // a kind added since the last discovery
		}
		return target{}, fmt.Errorf("unable to determine resource for scale target reference: %w", err)
	}
	return target{resource: m.Resource.GroupResource(), name: ref.Name}, nil
}

func (c *Controller) getScale(ctx context.Context, ns string, t target) (*autoscalingv1.Scale, error) {
	s, err := c.scales.Scales(ns).Get(ctx, t.resource, t.name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("getting scale of %s %s/%s: %w", t.resource, ns, t.name, err)
	}
	return s, nil
}

func (c *Controller) updateScale(ctx context.Context, ns string, t target, s *autoscalingv1.Scale, replicas int32) error {
	s = s.DeepCopy()
	s.Spec.Replicas = replicas
	if _, err := c.scales.Scales(ns).Update(ctx, t.resource, s, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("updating scale of %s %s/%s: %w", t.resource, ns, t.name, err)
	}
	return nil
}
