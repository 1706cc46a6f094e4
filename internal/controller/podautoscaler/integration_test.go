package podautoscaler_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/podautoscaler"
	"github.com/skiffkube/skiff/internal/server"
	"github.com/skiffkube/skiff/internal/server/servertest"
)

// busyMetrics reports every pod at 200m of CPU.
type busyMetrics struct{ pods typedcorev1.PodInterface }

func (b busyMetrics) PodMetrics(ctx context.Context, _ string, sel labels.Selector) (map[string]podautoscaler.PodMetrics, error) {
	list, err := b.pods.List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, err
	}
	out := map[string]podautoscaler.PodMetrics{}
	for _, p := range list.Items {
		out[p.Name] = podautoscaler.PodMetrics{Timestamp: time.Now(), Window: 30 * time.Second,
			Containers: map[string]corev1.ResourceList{"app": {corev1.ResourceCPU: resource.MustParse("200m")}}}
	}
	return out, nil
}

// TestScalesDeploymentThroughScaleSubresource runs the controller against
// the real API server: the Deployment's pods (created by the ReplicaSet
// controller, never started) use 200% of their request against a 50%
// target, so the HPA scales 1 → 4 (the default policy's +4 pods, then
// the max of 4).
func TestScalesDeploymentThroughScaleSubresource(t *testing.T) {
	srv := servertest.Start(t, func(c *server.Config) {
		c.DisableScheduler = true
		c.Controllers.Disabled = []string{"horizontal-pod-autoscaler"} // this test runs its own
	})
	cs := kubernetes.NewForConfigOrDie(srv.AdminConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	labelsWeb := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labelsWeb},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labelsWeb}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "busybox", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}}}}},
	}}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}, Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
		ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
		MaxReplicas:    4,
		Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
			Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}}}},
	}}
	if _, err := cs.AutoscalingV2().HorizontalPodAutoscalers("default").Create(ctx, hpa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	scales, mapper, err := podautoscaler.NewScaleClient(srv.AdminConfig())
	if err != nil {
		t.Fatal(err)
	}
	factory := informers.NewSharedInformerFactory(cs, 0)
	c, err := podautoscaler.New(podautoscaler.Config{Client: cs, Scales: scales, Mapper: mapper, Metrics: busyMetrics{pods: cs.CoreV1().Pods("default")},
		HPAs: factory.Autoscaling().V2().HorizontalPodAutoscalers(), Pods: factory.Core().V1().Pods(), SyncPeriod: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// No agent runs the pods: the test marks them running and ready.
	if _, err := factory.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) {
		p := obj.(*corev1.Pod).DeepCopy()
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		if _, err := cs.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Errorf("marking pod %s ready: %v", p.Name, err)
		}
	}}); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	factory.Start(runCtx.Done())
	done := make(chan error)
	go func() { done <- c.Run(runCtx, 1) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("controller: %v", err)
		}
		factory.Shutdown()
	}()

	lw := cache.NewListWatchFromClient(cs.AutoscalingV2().RESTClient(), "horizontalpodautoscalers", "default", fields.OneTermEqualSelector("metadata.name", "web"))
	var last *autoscalingv2.HorizontalPodAutoscaler
	_, err = watchtools.UntilWithSync(ctx, lw, &autoscalingv2.HorizontalPodAutoscaler{}, nil, func(e watch.Event) (bool, error) {
		h, ok := e.Object.(*autoscalingv2.HorizontalPodAutoscaler)
		if ok {
			last = h
		}
		return ok && h.Status.DesiredReplicas == 4 && h.Status.LastScaleTime != nil, nil
	})
	if err != nil {
		t.Fatalf("HPA never scaled to 4: %v; last status %+v", err, statusOf(last))
	}
	got, err := cs.AppsV1().Deployments("default").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ptr.Deref(got.Spec.Replicas, 0) != 4 {
		t.Errorf("deployment replicas %d, want 4", ptr.Deref(got.Spec.Replicas, 0))
	}
}

func statusOf(h *autoscalingv2.HorizontalPodAutoscaler) string {
	if h == nil {
		return "none"
	}
	return fmt.Sprintf("%+v", h.Status)
}
