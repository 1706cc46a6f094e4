package registry

import (
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func TestPDBValidation(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(p *policyv1.PodDisruptionBudget)
		want   []string
	}{
		{name: "valid minAvailable", mutate: func(*policyv1.PodDisruptionBudget) {}},
		{name: "valid maxUnavailable percent", mutate: func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable = nil
			p.Spec.MaxUnavailable = ptr.To(intstr.FromString("50%"))
		}},
		{name: "both", mutate: func(p *policyv1.PodDisruptionBudget) { p.Spec.MaxUnavailable = ptr.To(intstr.FromInt32(1)) },
			want: []string{"invalid:spec"}},
		{name: "negative", mutate: func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr.To(intstr.FromInt32(-1)) },
			want: []string{"invalid:spec.minAvailable"}},
		{name: "over 100%", mutate: func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr.To(intstr.FromString("150%")) },
			want: []string{"invalid:spec.minAvailable"}},
		{name: "bad selector", mutate: func(p *policyv1.PodDisruptionBudget) { p.Spec.Selector.MatchLabels = map[string]string{"a b": "c"} },
			want: []string{"invalid:spec.selector.matchLabels"}},
		{name: "bad eviction policy", mutate: func(p *policyv1.PodDisruptionBudget) {
			p.Spec.UnhealthyPodEvictionPolicy = ptr.To(policyv1.UnhealthyPodEvictionPolicyType("Never"))
		}, want: []string{"notsupported:spec.unhealthyPodEvictionPolicy"}},
	}
	s := pdbStrategy()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &policyv1.PodDisruptionBudget{ObjectMeta: wlMeta("web"), Spec: policyv1.PodDisruptionBudgetSpec{
				MinAvailable: ptr.To(intstr.FromInt32(2)),
				Selector:     &metav1.LabelSelector{MatchLabels: wlAppLabels()},
			}}
			tc.mutate(p)
			wlCheckErrs(t, s.Validate(p), tc.want...)
		})
	}
}
