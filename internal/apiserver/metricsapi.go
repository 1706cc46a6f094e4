package apiserver

import (
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
)

// The resource metrics API (metrics.k8s.io/v1beta1), which Skiff serves
// itself, as metrics-server would behind the aggregator: NodeMetrics and
// PodMetrics built from the agents' /stats/summary.
const (
	metricsGroup   = "metrics.k8s.io"
	metricsVersion = "v1beta1"
)

// installMetricsAPI registers the metrics types and their discovery. It
// does nothing without a kubelet client: there is no way to reach agents.
func (s *Server) installMetricsAPI() error {
	if s.cfg.Kubelet == nil {
		return nil
	}
	if err := metricsv1beta1.AddToScheme(s.codecs.scheme); err != nil {
		return fmt.Errorf("registering metrics.k8s.io types: %w", err)
	}
	s.metricsScraper = &metricsScraper{s: s, now: s.cfg.Clock.Now}
	s.discovery.addMetricsAPI()
	return nil
}

// serveMetrics serves get and list of nodes and pods in metrics.k8s.io.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request, info requestInfo) {
	gr := schema.GroupResource{Group: metricsGroup, Resource: info.Resource}
	if s.metricsScraper == nil || info.APIVersion != metricsVersion || info.Subresource != "" ||
		(info.Resource != "nodes" && info.Resource != "pods") || (info.Resource == "nodes" && info.Namespace != "") {
		s.resp.writeError(w, r, apierrors.NewNotFound(gr, info.Name))
		return
	}
	if info.Verb != "get" && info.Verb != "list" {
		s.resp.writeError(w, r, apierrors.NewMethodNotSupported(gr, info.Verb))
		return
	}
	var opts metav1.ListOptions
	if info.Verb == "list" {
		if err := s.codecs.decodeParams(r.URL.Query(), &opts); err != nil {
			s.resp.writeError(w, r, apierrors.NewBadRequest(err.Error()))
			return
		}
	}
	// Metrics are at most a scrape old: the watch cache is as good.
	opts = metav1.ListOptions{LabelSelector: opts.LabelSelector, FieldSelector: opts.FieldSelector, ResourceVersion: "0"}
	var obj runtime.Object
	var err error
	if info.Resource == "nodes" {
		obj, err = s.nodeMetrics(r, info.Name, opts)
	} else {
		obj, err = s.podMetrics(r, info.Namespace, info.Name, opts)
	}
	if err != nil {
		s.resp.writeError(w, r, err)
		return
	}
	s.resp.writeObject(w, r, http.StatusOK, obj)
}

// metricsObjects lists (name "") or gets the objects of resource in ns.
func (s *Server) metricsObjects(r *http.Request, resource, ns, name string, opts metav1.ListOptions) ([]runtime.Object, error) {
	rs := s.stores[schema.GroupVersionResource{Version: "v1", Resource: resource}]
	if name == "" {
		items, _, err := s.listItems(r.Context(), rs, ns, opts)
		return items, err
	}
	obj, err := s.getObject(r.Context(), rs, ns, name, "0")
	if err != nil {
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: metricsGroup, Resource: resource}, name)
	}
	return []runtime.Object{obj}, nil
}

// nodeMetrics answers a get (name set) or list of NodeMetrics.
func (s *Server) nodeMetrics(r *http.Request, name string, opts metav1.ListOptions) (runtime.Object, error) {
	nodes, err := s.metricsObjects(r, "nodes", "", name, opts)
	if err != nil {
		return nil, err
	}
	sums, err := s.metricsScraper.summaries(r.Context())
	if err != nil {
		return nil, err
	}
	now := s.cfg.Clock.Now()
	list := &metricsv1beta1.NodeMetricsList{TypeMeta: metav1.TypeMeta{Kind: "NodeMetricsList", APIVersion: metricsGroup + "/" + metricsVersion}}
	for _, obj := range nodes {
		node := obj.(*corev1.Node)
		if sum, ok := sums[node.Name]; ok {
			if m, ok := nodeMetrics(node, sum, now); ok {
				list.Items = append(list.Items, m)
			}
		}
	}
	if name == "" {
		return list, nil
	}
	if len(list.Items) == 0 {
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: metricsGroup, Resource: "nodes"}, name)
	}
	m := &list.Items[0]
	m.TypeMeta = metav1.TypeMeta{Kind: "NodeMetrics", APIVersion: list.APIVersion}
	return m, nil
}

// podMetrics answers a get (name set) or list of PodMetrics in ns ("":
// every namespace).
func (s *Server) podMetrics(r *http.Request, ns, name string, opts metav1.ListOptions) (runtime.Object, error) {
	pods, err := s.metricsObjects(r, "pods", ns, name, opts)
	if err != nil {
		return nil, err
	}
	sums, err := s.metricsScraper.summaries(r.Context())
	if err != nil {
		return nil, err
	}
	idx := indexPods(sums)
	now := s.cfg.Clock.Now()
	list := &metricsv1beta1.PodMetricsList{TypeMeta: metav1.TypeMeta{Kind: "PodMetricsList", APIVersion: metricsGroup + "/" + metricsVersion}}
	for _, obj := range pods {
		pod := obj.(*corev1.Pod)
		if ps, ok := idx[[2]string{pod.Namespace, pod.Name}]; ok {
			if m, ok := podMetrics(pod, ps, now); ok {
				list.Items = append(list.Items, m)
			}
		}
	}
	if name == "" {
		return list, nil
	}
	if len(list.Items) == 0 {
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: metricsGroup, Resource: "pods"}, name)
	}
	m := &list.Items[0]
	m.TypeMeta = metav1.TypeMeta{Kind: "PodMetrics", APIVersion: list.APIVersion}
	return m, nil
}
