package apiserver

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func rl(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func TestQuotaCharge(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c",
		Resources: corev1.ResourceRequirements{Requests: rl("cpu", "250m"), Limits: rl("cpu", "500m")}}}}}
	q := &corev1.ResourceQuota{}
	q.Name = "q"
	q.Spec.Hard = rl("pods", "2", "requests.cpu", "1", "limits.cpu", "1", "configmaps", "5")
	cases := []struct {
		name    string
		used    corev1.ResourceList
		charge  corev1.ResourceList
		wantErr string
		want    corev1.ResourceList
	}{
		{"room", rl("pods", "1", "requests.cpu", "250m", "limits.cpu", "0", "configmaps", "0"), quotaCharge(q, quotaObjects(schema.GroupResource{Resource: "pods"}, pod)), "",
			rl("pods", "2", "requests.cpu", "500m", "limits.cpu", "500m", "configmaps", "0")},
		{"pods full", rl("pods", "2", "requests.cpu", "0", "limits.cpu", "0"), rl("pods", "1"),
			"exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2", nil},
		{"two exceeded, sorted", rl("pods", "2", "requests.cpu", "900m"), rl("pods", "1", "requests.cpu", "250m"),
			"exceeded quota: q, requested: pods=1,requests.cpu=250m, used: pods=2,requests.cpu=900m, limited: pods=2,requests.cpu=1", nil},
		{"no status yet", nil, rl("pods", "1"), "status unknown for quota: q, resources: pods", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			qq := q.DeepCopy()
			qq.Status.Used = tc.used
			got, err := addCharge(qq, tc.charge)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.want {
				if g := got[k]; g.Cmp(v) != 0 {
					t.Errorf("%s = %s, want %s", k, g.String(), v.String())
				}
			}
		})
	}
}

func TestQuotaObjectsCounts(t *testing.T) {
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: rl("count/deployments.apps", "1", "configmaps", "1", "services", "1")}}
	got := quotaCharge(q, quotaObjects(schema.GroupResource{Group: "apps", Resource: "deployments"}, &appsv1.Deployment{}))
	if len(got) != 1 || got.Name("count/deployments.apps", resource.DecimalSI).Value() != 1 {
		t.Errorf("deployment charge %v", got)
	}
	got = quotaCharge(q, quotaObjects(schema.GroupResource{Resource: "configmaps"}, &corev1.ConfigMap{}))
	if len(got) != 1 || got.Name("configmaps", resource.DecimalSI).Value() != 1 {
		t.Errorf("configmap charge %v", got)
	}
}

func TestQuotaConstraints(t *testing.T) {
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: rl("requests.cpu", "1", "limits.memory", "1Gi", "pods", "3")}}
	q.Name = "q"
	pod := func(cs ...corev1.Container) *corev1.Pod { return &corev1.Pod{Spec: corev1.PodSpec{Containers: cs}} }
	cases := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"all stated", pod(corev1.Container{Name: "a", Resources: corev1.ResourceRequirements{Requests: rl("cpu", "1"), Limits: rl("memory", "1Gi")}}), ""},
		{"missing", pod(corev1.Container{Name: "b"}, corev1.Container{Name: "a", Resources: corev1.ResourceRequirements{Requests: rl("cpu", "1")}}),
			"failed quota: q: must specify limits.memory for: a,b; requests.cpu for: b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := quotaConstraints(q, tc.pod)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	if err := quotaConstraints(&corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: rl("pods", "1")}}, pod(corev1.Container{Name: "a"})); err != nil {
		t.Errorf("a pods-only quota requires nothing: %v", err)
	}
}
