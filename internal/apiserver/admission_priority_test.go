package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestResolvePriority(t *testing.T) {
	never := corev1.PreemptNever
	lower := corev1.PreemptLowerPriority
	high := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000, PreemptionPolicy: &never}
	def := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "def"}, Value: 10, GlobalDefault: true, PreemptionPolicy: &lower}
	i32 := func(v int32) *int32 { return &v }
	rs := &resourceStore{gr: schema.GroupResource{Resource: "pods"}}
	cases := []struct {
		name       string
		classes    []*schedulingv1.PriorityClass
		spec       corev1.PodSpec
		wantErr    string
		wantClass  string
		wantPrio   int32
		wantPolicy *corev1.PreemptionPolicy
	}{
		{"named class", []*schedulingv1.PriorityClass{high, def}, corev1.PodSpec{PriorityClassName: "high"}, "", "high", 1000, &never},
		{"global default", []*schedulingv1.PriorityClass{high, def}, corev1.PodSpec{}, "", "def", 10, &lower},
		{"no default", []*schedulingv1.PriorityClass{high}, corev1.PodSpec{}, "", "", 0, nil},
		{"unknown class", nil, corev1.PodSpec{PriorityClassName: "nope"}, `pods "p" is forbidden: no PriorityClass with name nope was found`, "", 0, nil},
		{"matching priority", []*schedulingv1.PriorityClass{high}, corev1.PodSpec{PriorityClassName: "high", Priority: i32(1000)}, "", "high", 1000, &never},
		{"disagreeing priority", []*schedulingv1.PriorityClass{high}, corev1.PodSpec{PriorityClassName: "high", Priority: i32(5)},
			`pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name`, "", 0, nil},
		{"disagreeing policy", []*schedulingv1.PriorityClass{high}, corev1.PodSpec{PriorityClassName: "high", PreemptionPolicy: &lower},
			`pods "p" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name`, "", 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: tc.spec}
			err := resolvePriority(rs, pod, tc.classes)
			if got := errString(err); got != tc.wantErr {
				t.Fatalf("error %q, want %q", got, tc.wantErr)
			}
			if err != nil {
				return
			}
			if pod.Spec.PriorityClassName != tc.wantClass || pod.Spec.Priority == nil || *pod.Spec.Priority != tc.wantPrio {
				t.Errorf("got class %q priority %v, want %q %d", pod.Spec.PriorityClassName, pod.Spec.Priority, tc.wantClass, tc.wantPrio)
			}
			if (pod.Spec.PreemptionPolicy == nil) != (tc.wantPolicy == nil) ||
				(tc.wantPolicy != nil && *pod.Spec.PreemptionPolicy != *tc.wantPolicy) {
				t.Errorf("got policy %v, want %v", pod.Spec.PreemptionPolicy, tc.wantPolicy)
			}
		})
	}
}

func TestCheckSingleDefault(t *testing.T) {
	rs := &resourceStore{gr: schema.GroupResource{Group: "scheduling.k8s.io", Resource: "priorityclasses"}}
	existing := []*schedulingv1.PriorityClass{{ObjectMeta: metav1.ObjectMeta{Name: "a"}, GlobalDefault: true}}
	second := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "b"}, GlobalDefault: true}
	want := `priorityclasses.scheduling.k8s.io "b" is forbidden: PriorityClass a is already marked as default. Only one default can exist`
	if got := errString(checkSingleDefault(rs, second, existing)); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if err := checkSingleDefault(rs, existing[0], existing); err != nil {
		t.Errorf("updating the default itself refused: %v", err)
	}
}
