package dns

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// Index names of the informer source.
const (
	indexByClusterIP = "clusterIP"
	indexByService   = "service"
	indexByAddress   = "address"
)

// informerSource is a Source over informer caches, indexed for each
// question the Resolver asks.
type informerSource struct {
	services cache.Indexer
	slices   cache.Indexer
}

var _ Source = (*informerSource)(nil)

// newInformerSource adds the indexes to the factory's informers.
func newInformerSource(factory informers.SharedInformerFactory) (*informerSource, error) {
	svcInf := factory.Core().V1().Services().Informer()
	sliceInf := factory.Discovery().V1().EndpointSlices().Informer()
	if err := svcInf.AddIndexers(cache.Indexers{indexByClusterIP: clusterIPKeys}); err != nil {
		return nil, fmt.Errorf("dns: service indexes: %w", err)
	}
	if err := sliceInf.AddIndexers(cache.Indexers{indexByService: sliceServiceKeys, indexByAddress: sliceAddressKeys}); err != nil {
		return nil, fmt.Errorf("dns: endpoint slice indexes: %w", err)
	}
	return &informerSource{services: svcInf.GetIndexer(), slices: sliceInf.GetIndexer()}, nil
}

func clusterIPKeys(obj any) ([]string, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		return nil, nil
	}
	return svc.Spec.ClusterIPs, nil
}

func sliceServiceKeys(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok || s.Labels[discoveryv1.LabelServiceName] == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + s.Labels[discoveryv1.LabelServiceName]}, nil
}

// sliceAddressKeys indexes the addresses of endpoints with a hostname,
// the only ones with reverse records.
func sliceAddressKeys(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	var keys []string
	for _, ep := range s.Endpoints {
		if ep.Hostname != nil && *ep.Hostname != "" {
			keys = append(keys, ep.Addresses...)
		}
	}
	return keys, nil
}

func (s *informerSource) Service(namespace, name string) *corev1.Service {
	obj, ok, err := s.services.GetByKey(namespace + "/" + name)
	if err != nil || !ok {
		return nil
	}
	svc, _ := obj.(*corev1.Service)
	return svc
}

func (s *informerSource) EndpointSlices(namespace, service string) []*discoveryv1.EndpointSlice {
	return byIndex[*discoveryv1.EndpointSlice](s.slices, indexByService, namespace+"/"+service)
}

func (s *informerSource) ServicesByIP(ip string) []*corev1.Service {
	return byIndex[*corev1.Service](s.services, indexByClusterIP, ip)
}

func (s *informerSource) SlicesByAddress(ip string) []*discoveryv1.EndpointSlice {
	return byIndex[*discoveryv1.EndpointSlice](s.slices, indexByAddress, ip)
}

func byIndex[T any](idx cache.Indexer, index, key string) []T {
	objs, err := idx.ByIndex(index, key)
	if err != nil {
		return nil
	}
	out := make([]T, 0, len(objs))
	for _, o := range objs {
		if t, ok := o.(T); ok {
			out = append(out, t)
		}
	}
	return out
}
