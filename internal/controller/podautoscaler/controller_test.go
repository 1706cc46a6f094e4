package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	scalefake "k8s.io/client-go/scale/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeMetrics serves fixed pod metrics.
type fakeMetrics struct {
	pods map[string]PodMetrics
	err  error
}

func (f fakeMetrics) PodMetrics(context.Context, string, labels.Selector) (map[string]PodMetrics, error) {
	return f.pods, f.err
}

func cpuMetrics(milli ...int64) map[string]PodMetrics {
	out := map[string]PodMetrics{}
	for i, m := range milli {
		out[fmt.Sprintf("web-%d", i)] = PodMetrics{Timestamp: testNow, Window: 30 * time.Second,
			Containers: map[string]corev1.ResourceList{"app": {corev1.ResourceCPU: *resource.NewMilliQuantity(m, resource.DecimalSI)}}}
	}
	return out
}

func testPod(i int) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "ns", Labels: map[string]string{"app": "web"}}}
	p.Spec.Containers = []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}}}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	return p
}

func testHPA() *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", Generation: 2},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr.To[int32](1), MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](50)}}}},
		},
	}
}

// fixture is one controller over fakes with the scale of a 2-replica
// Deployment web.
type fixture struct {
	client   *fake.Clientset
	scales   *scalefake.FakeScaleClient
	recorder *record.FakeRecorder
	ctrl     *Controller
	updated  []int32 // replicas written through the scale subresource
}

func newFixture(t *testing.T, hpa *autoscalingv2.HorizontalPodAutoscaler, metrics MetricsClient, replicas int32, pods ...*corev1.Pod) *fixture {
	t.Helper()
	f := &fixture{client: fake.NewClientset(hpa), scales: &scalefake.FakeScaleClient{}, recorder: record.NewFakeRecorder(10)}
	f.scales.AddReactor("get", "deployments", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
			Spec: autoscalingv1.ScaleSpec{Replicas: replicas}, Status: autoscalingv1.ScaleStatus{Replicas: replicas, Selector: "app=web"}}, nil
	})
	f.scales.AddReactor("update", "deployments", func(a clienttesting.Action) (bool, runtime.Object, error) {
		s := a.(clienttesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
		f.updated = append(f.updated, s.Spec.Replicas)
		return true, s, nil
	})
	mapper := meta.NewDefaultRESTMapper(nil)
	mapper.Add(schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, meta.RESTScopeNamespace)
	factory := informers.NewSharedInformerFactory(f.client, 0)
	hpas, podInf := factory.Autoscaling().V2().HorizontalPodAutoscalers(), factory.Core().V1().Pods()
	if err := hpas.Informer().GetIndexer().Add(hpa); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		if err := podInf.Informer().GetIndexer().Add(p); err != nil {
			t.Fatal(err)
		}
	}
	c, err := New(Config{Client: f.client, Scales: f.scales, Mapper: mapper, Metrics: metrics, HPAs: hpas, Pods: podInf,
		Recorder: f.recorder, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	f.ctrl = c
	return f
}

// status returns the status written by the last UpdateStatus action.
func (f *fixture) status(t *testing.T) autoscalingv2.HorizontalPodAutoscalerStatus {
	t.Helper()
	acts := f.client.Actions()
	for i := len(acts) - 1; i >= 0; i-- {
		if u, ok := acts[i].(clienttesting.UpdateAction); ok && acts[i].GetSubresource() == "status" {
			return u.GetObject().(*autoscalingv2.HorizontalPodAutoscaler).Status
		}
	}
	t.Fatalf("no status update in %v", acts)
	return autoscalingv2.HorizontalPodAutoscalerStatus{}
}

func wantCondition(t *testing.T, st autoscalingv2.HorizontalPodAutoscalerStatus, typ autoscalingv2.HorizontalPodAutoscalerConditionType, status corev1.ConditionStatus, reason string) {
	t.Helper()
	c := condition(&st, typ)
	if c == nil || c.Status != status || c.Reason != reason {
		t.Errorf("condition %s = %+v, want %s %s", typ, c, status, reason)
	}
}

func TestSyncScalesUpOnCPU(t *testing.T) {
	// Two pods at 150% of their 100m request, target 50%: 3x → 6 replicas.
	f := newFixture(t, testHPA(), fakeMetrics{pods: cpuMetrics(150, 150)}, 2, testPod(0), testPod(1))
	err := f.ctrl.sync(context.Background(), "ns/web")
	var after kit.RequeueAfter
	if !errors.As(err, &after) || time.Duration(after) != DefaultSyncPeriod {
		t.Fatalf("sync: %v, want a requeue", err)
	}
	if len(f.updated) != 1 || f.updated[0] != 6 {
		t.Fatalf("scale updates %v, want [6]", f.updated)
	}
	st := f.status(t)
	if st.DesiredReplicas != 6 || st.CurrentReplicas != 2 || st.LastScaleTime == nil || ptr.Deref(st.ObservedGeneration, 0) != 2 {
		t.Errorf("status %+v", st)
	}
	if len(st.CurrentMetrics) != 1 || ptr.Deref(st.CurrentMetrics[0].Resource.Current.AverageUtilization, -1) != 150 ||
		st.CurrentMetrics[0].Resource.Current.AverageValue.String() != "150m" {
		t.Errorf("current metrics %+v", st.CurrentMetrics)
	}
	wantCondition(t, st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale")
	wantCondition(t, st, autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound")
	wantCondition(t, st, autoscalingv2.ScalingLimited, corev1.ConditionFalse, "DesiredWithinRange")
	want := "Normal SuccessfulRescale New size: 6; reason: cpu resource utilization (percentage of request) above target"
	if got := <-f.recorder.Events; got != want {
		t.Errorf("event %q, want %q", got, want)
	}
}

func TestSyncScaleDownStabilized(t *testing.T) {
	// Usage 10%: the proposal is 1, but a recommendation of 4 a minute ago
	// is inside the default 300 s down window and holds the count.
	f := newFixture(t, testHPA(), fakeMetrics{pods: cpuMetrics(10, 10, 10, 10)}, 4, testPod(0), testPod(1), testPod(2), testPod(3))
	f.ctrl.setHistory("ns/web", history{recommendations: []recommendation{{at: testNow.Add(-time.Minute), replicas: 4}}})
	_ = f.ctrl.sync(context.Background(), "ns/web")
	if len(f.updated) != 0 {
		t.Fatalf("scaled to %v within the stabilization window", f.updated)
	}
	st := f.status(t)
	if st.DesiredReplicas != 4 {
		t.Errorf("desired %d, want 4", st.DesiredReplicas)
	}
	wantCondition(t, st, autoscalingv2.AbleToScale, corev1.ConditionTrue, "ScaleDownStabilized")
}

func TestSyncMetricsUnavailable(t *testing.T) {
	f := newFixture(t, testHPA(), fakeMetrics{err: errors.New("metrics API down")}, 2, testPod(0), testPod(1))
	if err := f.ctrl.sync(context.Background(), "ns/web"); err == nil {
		t.Fatal("sync succeeded without metrics")
	}
	if len(f.updated) != 0 {
		t.Fatalf("scaled without metrics: %v", f.updated)
	}
	st := f.status(t)
	wantCondition(t, st, autoscalingv2.ScalingActive, corev1.ConditionFalse, "FailedGetResourceMetric")
	if got := <-f.recorder.Events; got != "Warning FailedGetResourceMetric metrics API down" {
		t.Errorf("event %q", got)
	}
}

func TestSyncClampsToMin(t *testing.T) {
	// Below minReplicas: scaled to the minimum without looking at metrics.
	hpa := testHPA()
	hpa.Spec.MinReplicas = ptr.To[int32](3)
	f := newFixture(t, hpa, fakeMetrics{}, 1, testPod(0))
	_ = f.ctrl.sync(context.Background(), "ns/web")
	if len(f.updated) != 1 || f.updated[0] != 3 {
		t.Fatalf("scale updates %v, want [3]", f.updated)
	}
	want := "Normal SuccessfulRescale New size: 3; reason: Current number of replicas below Spec.MinReplicas"
	if got := <-f.recorder.Events; got != want {
		t.Errorf("event %q, want %q", got, want)
	}
}

func TestSyncScalingDisabledAtZero(t *testing.T) {
	f := newFixture(t, testHPA(), fakeMetrics{}, 0)
	_ = f.ctrl.sync(context.Background(), "ns/web")
	if len(f.updated) != 0 {
		t.Fatalf("scaled a target at zero: %v", f.updated)
	}
	wantCondition(t, f.status(t), autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled")
}
