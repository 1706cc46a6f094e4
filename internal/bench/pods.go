package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// BenchPod returns a pod of realistic size (about 2 KiB of JSON as sent): a
// few labels and annotations, an application container with ports,
// environment, resources, probes and volume mounts, and a logging sidecar.
func BenchPod(namespace, name string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: namespace,
			Labels: map[string]string{
				"app": "checkout", "tier": "backend", "release": "stable",
				"app.kubernetes.io/version": "2.14.1", "app.kubernetes.io/part-of": "shop",
			},
			Annotations: map[string]string{"prometheus.io/scrape": "true", "prometheus.io/port": "9090",
				"checksum/config": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},
		},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{
				Name:  "app",
				Image: "registry.example.com/shop/checkout:2.14.1",
				Args:  []string{"--listen=:8080", "--metrics=:9090", "--log-format=json"},
				Ports: []corev1.ContainerPort{
					{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
					{Name: "metrics", ContainerPort: 9090, Protocol: corev1.ProtocolTCP},
				},
				Env: []corev1.EnvVar{
					{Name: "DATABASE_URL", Value: "postgres://checkout@db.shop.svc:5432/checkout"},
					{Name: "CACHE_ADDR", Value: "redis.shop.svc:6379"},
					{Name: "LOG_LEVEL", Value: "info"},
					{Name: "FEATURE_FLAGS", Value: "new-cart,fast-checkout,gift-cards"},
					{Name: "OTEL_EXPORTER_OTLP_ENDPOINT", Value: "http://otel-collector.observability.svc:4317"},
					{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("512Mi")},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
					PeriodSeconds: 5,
				},
				LivenessProbe: &corev1.Probe{
					ProbeHandler:        corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")}},
					InitialDelaySeconds: 10, PeriodSeconds: 20,
				},
				VolumeMounts: []corev1.VolumeMount{
					{Name: "config", MountPath: "/etc/checkout", ReadOnly: true},
					{Name: "tmp", MountPath: "/tmp"},
				},
			}, {
				Name:         "log-shipper",
				Image:        "registry.example.com/infra/log-shipper:1.3.0",
				Env:          []corev1.EnvVar{{Name: "SHIP_TO", Value: "logs.infra.svc:24224"}},
				VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/var/log/app", ReadOnly: true}},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("128Mi")},
				},
			}},
			Volumes: []corev1.Volume{
				{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "checkout-config"}}}},
				{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
			},
			NodeSelector:                  map[string]string{"kubernetes.io/os": "linux"},
			Tolerations:                   []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "shop", Effect: corev1.TaintEffectNoSchedule}},
			TerminationGracePeriodSeconds: ptrTo[int64](45),
		},
	}
}

func ptrTo[T any](v T) *T { return &v }

// CreateStats is the outcome of CreatePods.
type CreateStats struct {
	// Elapsed is the wall time of all creates.
	Elapsed time.Duration
	// Latencies holds the time of each create.
	Latencies []time.Duration
}

// PerSecond is the create rate.
func (s CreateStats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(len(s.Latencies)) / s.Elapsed.Seconds()
}

// CreatePods creates total BenchPods named <prefix>-<n> in namespace from
// workers concurrent goroutines sharing cs. It stops at the first error.
func CreatePods(ctx context.Context, cs kubernetes.Interface, namespace, prefix string, workers, total int) (CreateStats, error) {
	return createPodsWith(ctx, cs, namespace, prefix, workers, total, BenchPod)
}

// createPodsWith is CreatePods with pods built by build.
func createPodsWith(ctx context.Context, cs kubernetes.Interface, namespace, prefix string, workers, total int,
	build func(namespace, name string) *corev1.Pod) (CreateStats, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	perWorker := make([][]time.Duration, workers)
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(total); i = next.Add(1) - 1 {
				pod := build(namespace, prefix+"-"+strconv.FormatInt(i, 10))
				t0 := time.Now()
				if _, err := cs.CoreV1().Pods(namespace).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("creating pod %s: %w", pod.Name, err); cancel() })
					return
				}
				perWorker[w] = append(perWorker[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	stats := CreateStats{Elapsed: time.Since(start), Latencies: make([]time.Duration, 0, total)}
	for _, l := range perWorker {
		stats.Latencies = append(stats.Latencies, l...)
	}
	return stats, firstErr
}

// createNamespace creates a namespace for one scenario.
func createNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("creating namespace %s: %w", name, err)
	}
	return nil
}
