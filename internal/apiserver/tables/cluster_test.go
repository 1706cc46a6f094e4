package tables

import (
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	storagev1 "k8s.io/api/storage/v1"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestClusterCells(t *testing.T) {
	holder := "node-1"
	lease := &coordinationv1.Lease{ObjectMeta: objMeta("node-1"), Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder}}

	minA := intstr.FromString("50%")
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: objMeta("web"),
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &minA}, Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}}
	maxU := intstr.FromInt32(1)
	pdb2 := &policyv1.PodDisruptionBudget{ObjectMeta: objMeta("db"), Spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: &maxU}}

	never := corev1.PreemptNever
	pc := &schedulingv1.PriorityClass{ObjectMeta: objMeta("high"), Value: 1000000, GlobalDefault: true, PreemptionPolicy: &never}

	rb := &rbacv1.RoleBinding{ObjectMeta: objMeta("edit"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "edit"},
		Subjects: []rbacv1.Subject{
			{Kind: rbacv1.UserKind, Name: "alice"}, {Kind: rbacv1.UserKind, Name: "bob"},
			{Kind: rbacv1.GroupKind, Name: "devs"},
			{Kind: rbacv1.ServiceAccountKind, Namespace: "ci", Name: "deployer"},
		}}
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: objMeta("admin"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}}

	port, name := int32(8080), "metrics"
	slice := &discoveryv1.EndpointSlice{ObjectMeta: objMeta("web-abc"), AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{{Port: &port}, {Name: &name}, {}, {Port: &port}},
		Endpoints: []discoveryv1.Endpoint{
			{Addresses: []string{"10.0.0.1"}}, {Addresses: []string{"10.0.0.2", "10.0.0.3"}}, {Addresses: []string{"10.0.0.4"}},
		}}
	defaultSC := &storagev1.StorageClass{ObjectMeta: objMeta("local"), Provisioner: "skiff.io/local"}
	defaultSC.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	retain, wait, expand := corev1.PersistentVolumeReclaimRetain, storagev1.VolumeBindingWaitForFirstConsumer, true
	sc := &storagev1.StorageClass{ObjectMeta: objMeta("fast"), Provisioner: "p", ReclaimPolicy: &retain, VolumeBindingMode: &wait, AllowVolumeExpansion: &expand}
	hook := &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: objMeta("policy"),
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "a.x.io"}, {Name: "b.x.io"}}}
	runCellCases(t, []cellCase{
		{"default storage class", defaultSC, []any{"local (default)", "skiff.io/local", "Delete", "Immediate", "false", "60m"}},
		{"storage class", sc, []any{"fast", "p", "Retain", "WaitForFirstConsumer", "true", "60m"}},
		{"webhook configuration", hook, []any{"policy", int64(2), "60m"}},
		{"lease", lease, []any{"node-1", "node-1", "60m"}},
		{"lease without holder", &coordinationv1.Lease{ObjectMeta: objMeta("l")}, []any{"l", "", "60m"}},
		{"pdb min available", pdb, []any{"web", "50%", "N/A", int64(1), "60m"}},
		{"pdb max unavailable", pdb2, []any{"db", "N/A", "1", int64(0), "60m"}},
		{"priority class", pc, []any{"high", int64(1000000), true, "60m", "Never"}},
		{"role binding", rb, []any{"edit", "ClusterRole/edit", "60m", "alice, bob", "devs", "ci/deployer"}},
		{"cluster role binding", crb, []any{"admin", "ClusterRole/cluster-admin", "60m", "", "", ""}},
		{"endpoint slice", slice, []any{"web-abc", "IPv4", "8080,metrics,* + 1 more...", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "60m"}},
		{"empty endpoint slice", &discoveryv1.EndpointSlice{ObjectMeta: objMeta("e"), AddressType: discoveryv1.AddressTypeIPv6},
			[]any{"e", "IPv6", "<unset>", "<unset>", "60m"}},
	})
}

func TestHPACells(t *testing.T) {
	util := int32(80)
	curUtil := int32(35)
	avg := resource.MustParse("100m")
	curAvg := resource.MustParse("50m")
	v2 := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: objMeta("web")}
	v2.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}
	v2.Spec.MinReplicas = int32p(2)
	v2.Spec.MaxReplicas = 10
	v2.Spec.Metrics = []autoscalingv2.MetricSpec{
		{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &util}}},
		{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &avg}}},
		{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &avg}}},
	}
	v2.Status.CurrentReplicas = 3
	v2.Status.CurrentMetrics = []autoscalingv2.MetricStatus{
		{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU,
			Current: autoscalingv2.MetricValueStatus{AverageUtilization: &curUtil}}},
		{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricStatus{
			Current: autoscalingv2.MetricValueStatus{AverageValue: &curAvg}}},
	}

	unknown := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: objMeta("api")}
	unknown.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{Kind: "StatefulSet", Name: "api"}
	unknown.Spec.MaxReplicas = 4
	unknown.Spec.Metrics = []autoscalingv2.MetricSpec{
		{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: &avg}}},
		{Type: autoscalingv2.ContainerResourceMetricSourceType, ContainerResource: &autoscalingv2.ContainerResourceMetricSource{
			Name: corev1.ResourceMemory, Container: "app", Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType}}},
	}

	target := int32(50)
	v1 := &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: objMeta("old")}
	v1.Spec.ScaleTargetRef = autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "old"}
	v1.Spec.MinReplicas = int32p(1)
	v1.Spec.MaxReplicas = 5
	v1.Spec.TargetCPUUtilizationPercentage = &target
	v1.Status.CurrentCPUUtilizationPercentage = &curUtil
	v1.Status.CurrentReplicas = 2
	runCellCases(t, []cellCase{
		{"v2 three metrics", v2, []any{"web", "Deployment/web", "cpu: 35%/80%, 50m/100m + 1 more...", "2", int64(10), int64(3), "60m"}},
		{"v2 no status", unknown, []any{"api", "StatefulSet/api", "<unknown>/100m (avg), memory: <unknown>/<auto>", "<unset>", int64(4), int64(0), "60m"}},
		{"v2 no metrics", &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: objMeta("n")},
			[]any{"n", "/", "<none>", "<unset>", int64(0), int64(0), "60m"}},
		{"v1 cpu", v1, []any{"old", "Deployment/old", "cpu: 35%/50%", "1", int64(5), int64(2), "60m"}},
	})
}

func TestEventCells(t *testing.T) {
	ev := &corev1.Event{ObjectMeta: objMeta("web.17a"),
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-1", FieldPath: "spec.containers{web}"},
		Reason:         "BackOff", Message: "  Back-off restarting failed container\n", Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: ago(10 * time.Minute), LastTimestamp: ago(30 * time.Second), Count: 7}
	series := &corev1.Event{ObjectMeta: objMeta("s"), InvolvedObject: corev1.ObjectReference{Kind: "Node"},
		Type: corev1.EventTypeNormal, Reason: "Starting", EventTime: microAgo(5 * time.Minute),
		Series:              &corev1.EventSeries{Count: 4, LastObservedTime: microAgo(time.Minute)},
		ReportingController: "skiff-agent", ReportingInstance: "node-2"}
	singleton := &corev1.Event{ObjectMeta: objMeta("n"), InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web"},
		Type: corev1.EventTypeNormal, Reason: "ScalingReplicaSet", Message: "Scaled up", EventTime: microAgo(2 * time.Minute),
		ReportingController: "deployment-controller"}
	runCellCases(t, []cellCase{
		{"legacy event", ev, []any{"30s", "Warning", "BackOff", "pod/web-1", "spec.containers{web}", "kubelet, node-1",
			"Back-off restarting failed container", "10m", int64(7), "web.17a"}},
		{"series", series, []any{"60s", "Normal", "Starting", "node", "", "skiff-agent, node-2", "", "5m", int64(4), "s"}},
		{"singleton new-style", singleton, []any{"2m", "Normal", "ScalingReplicaSet", "deployment/web", "", "deployment-controller",
			"Scaled up", "2m", int64(1), "n"}},
		{"events.k8s.io", newStyleEvent(), []any{"3m", "Warning", "FailedScheduling", "pod/web-2", "", "default-scheduler",
			"0/3 nodes are available", "3m", int64(1), "web-2.e1"}},
	})
}

func microAgo(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(testNow().Add(-d)) }

func newStyleEvent() *eventsv1.Event {
	return &eventsv1.Event{ObjectMeta: objMeta("web-2.e1"), EventTime: microAgo(3 * time.Minute),
		ReportingController: "default-scheduler", Action: "Scheduling", Reason: "FailedScheduling",
		Regarding: corev1.ObjectReference{Kind: "Pod", Name: "web-2"}, Note: "0/3 nodes are available", Type: corev1.EventTypeWarning}
}
