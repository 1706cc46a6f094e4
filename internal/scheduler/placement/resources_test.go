package placement

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func req(cpu, mem string) corev1.ResourceRequirements {
	rl := corev1.ResourceList{}
	if cpu != "" {
		rl[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		rl[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return corev1.ResourceRequirements{Requests: rl}
}

func TestPodRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	tests := []struct {
		name    string
		spec    corev1.PodSpec
		wantCPU int64
		wantMem int64
	}{
		{"containers add up", corev1.PodSpec{Containers: []corev1.Container{{Resources: req("1", "1Gi")}, {Resources: req("500m", "")}}}, 1500, 1 << 30},
		{"init container peak wins", corev1.PodSpec{
			InitContainers: []corev1.Container{{Resources: req("3", "")}},
			Containers:     []corev1.Container{{Resources: req("1", "2Gi")}},
		}, 3000, 2 << 30},
		{"sidecar adds to containers and to later init containers", corev1.PodSpec{
			InitContainers: []corev1.Container{
				{Resources: req("1", ""), RestartPolicy: &always},
				{Resources: req("2500m", "")},
			},
			Containers: []corev1.Container{{Resources: req("1", "")}},
		}, 3500, 0},
		{"overhead is added", corev1.PodSpec{
			Containers: []corev1.Container{{Resources: req("1", "")}},
			Overhead:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")},
		}, 1250, 0},
		{"pod-level requests override", corev1.PodSpec{
			Containers: []corev1.Container{{Resources: req("1", "1Gi")}},
			Resources:  &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}},
		}, 2000, 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PodRequests(&corev1.Pod{Spec: tt.spec})
			if got.MilliCPU != tt.wantCPU || got.Memory != tt.wantMem || got.Pods != 1 {
				t.Errorf("got cpu=%d mem=%d pods=%d, want cpu=%d mem=%d pods=1", got.MilliCPU, got.Memory, got.Pods, tt.wantCPU, tt.wantMem)
			}
		})
	}
}

func TestIsScalar(t *testing.T) {
	for name, want := range map[corev1.ResourceName]bool{
		"nvidia.com/gpu": true, "hugepages-2Mi": true, "kubernetes.io/foo": false, "cpu": false, "storage": false,
	} {
		if got := isScalar(name); got != want {
			t.Errorf("isScalar(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestNonZeroRequests(t *testing.T) {
	p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{}, {Resources: req("1", "")}}}}
	cpu, mem := nonZeroRequests(p, PodRequests(p))
	if cpu != 1100 || mem != 2*defaultMemoryRequest {
		t.Errorf("got cpu=%d mem=%d", cpu, mem)
	}
}
