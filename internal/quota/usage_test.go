package quota

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

func res(cpu, mem string) corev1.ResourceRequirements {
	r := corev1.ResourceRequirements{Requests: corev1.ResourceList{}, Limits: corev1.ResourceList{}}
	if cpu != "" {
		r.Requests[corev1.ResourceCPU] = resource.MustParse(cpu)
		r.Limits[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		r.Requests[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return r
}

func TestUsed(t *testing.T) {
	pods := []*corev1.Pod{
		{Spec: corev1.PodSpec{Containers: []corev1.Container{{Resources: res("100m", "64Mi")}, {Resources: res("200m", "")}}}},
		// An init container larger than the app containers sets the charge.
		{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Resources: res("1", "")}}, Containers: []corev1.Container{{Resources: res("100m", "")}}}},
		// A sidecar adds to the app containers.
		{Spec: corev1.PodSpec{InitContainers: []corev1.Container{{Resources: res("50m", ""), RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways)}},
			Containers: []corev1.Container{{Resources: res("100m", "")}}}},
		{Spec: corev1.PodSpec{Containers: []corev1.Container{{}}}}, // best effort
		{Spec: corev1.PodSpec{Containers: []corev1.Container{{Resources: res("5", "")}}}, Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
	}
	svcs := []*corev1.Service{
		{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 1}, {Port: 2}}}},
		{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 1}}}},
		{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}},
	}
	hard := corev1.ResourceList{}
	for _, n := range []string{"pods", "requests.cpu", "limits.cpu", "memory", "services", "services.nodeports", "services.loadbalancers", "configmaps", "count/secrets"} {
		hard[corev1.ResourceName(n)] = resource.MustParse("100")
	}
	want := map[string]string{
		"pods": "4", "requests.cpu": "1450m", "limits.cpu": "1450m", "memory": "64Mi", "services": "3",
		"services.nodeports": "3", "services.loadbalancers": "1", "configmaps": "2", "count/secrets": "5",
	}
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: hard}}
	used := Used(q, Objects{Pods: pods, Services: svcs, ConfigMaps: 2, Secrets: 5})
	for n, w := range want {
		got := used[corev1.ResourceName(n)]
		if got.Cmp(resource.MustParse(w)) != 0 {
			t.Errorf("%s used = %s, want %s", n, got.String(), w)
		}
	}
	q.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}
	scoped := Used(q, Objects{Pods: pods})
	if got := scoped["pods"]; got.Value() != 1 {
		t.Errorf("BestEffort-scoped pods = %s, want 1", got.String())
	}
}

func TestPriorityClassScope(t *testing.T) {
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{ScopeSelector: &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{
		{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpIn, Values: []string{"high"}},
	}}}}
	for _, tc := range []struct {
		class string
		want  bool
	}{{"high", true}, {"low", false}, {"", false}} {
		p := &corev1.Pod{Spec: corev1.PodSpec{PriorityClassName: tc.class}}
		if got := MatchesScopes(q, p); got != tc.want {
			t.Errorf("class %q: match = %v, want %v", tc.class, got, tc.want)
		}
	}
}
