package podautoscaler

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	metricsv1beta1 "k8s.io/metrics/pkg/client/clientset/versioned/typed/metrics/v1beta1"
)

// PodMetrics is one pod's resource usage over a window ending at
// Timestamp, per container.
type PodMetrics struct {
	// Timestamp is when the usage was measured (the end of Window).
	Timestamp time.Time
	// Window is the interval the usage is averaged over.
	Window time.Duration
	// Containers maps container names to their usage (cpu, memory).
	Containers map[string]corev1.ResourceList
}

// MetricsClient reads the resource usage of the pods a selector matches,
// keyed by pod name. Pods without metrics are simply absent.
type MetricsClient interface {
	PodMetrics(ctx context.Context, namespace string, selector labels.Selector) (map[string]PodMetrics, error)
}

// ResourceMetricsClient is the MetricsClient over the metrics.k8s.io API.
type ResourceMetricsClient struct {
	// Client is the metrics.k8s.io/v1beta1 client.
	Client metricsv1beta1.PodMetricsesGetter
}

var _ MetricsClient = ResourceMetricsClient{}

// PodMetrics lists metrics.k8s.io PodMetrics with the selector.
func (c ResourceMetricsClient) PodMetrics(ctx context.Context, namespace string, selector labels.Selector) (map[string]PodMetrics, error) {
	list, err := c.Client.PodMetricses(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, fmt.Errorf("unable to fetch metrics from resource metrics API: %w", err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no metrics returned from resource metrics API")
	}
	out := make(map[string]PodMetrics, len(list.Items))
	for _, m := range list.Items {
		pm := PodMetrics{Timestamp: m.Timestamp.Time, Window: m.Window.Duration, Containers: map[string]corev1.ResourceList{}}
		for _, c := range m.Containers {
			pm.Containers[c.Name] = c.Usage
		}
		out[m.Name] = pm
	}
	return out, nil
}
