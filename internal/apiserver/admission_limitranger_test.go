package apiserver

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestLimitRangeDefaults(t *testing.T) {
	lr := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Default: rl("cpu", "500m", "memory", "256Mi"), DefaultRequest: rl("cpu", "100m"),
	}}}}
	p := &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{
		{Name: "bare"},
		{Name: "own", Resources: corev1.ResourceRequirements{Requests: rl("cpu", "1"), Limits: rl("cpu", "2", "memory", "1Gi")}},
	}}}
	applyLimitRangeDefaults(p, lr)
	bare := p.Spec.Containers[0].Resources
	if bare.Limits.Cpu().String() != "500m" || bare.Limits.Memory().String() != "256Mi" || bare.Requests.Cpu().String() != "100m" ||
		bare.Requests.Memory().String() != "256Mi" {
		t.Errorf("bare container %+v", bare)
	}
	own := p.Spec.Containers[1].Resources
	if own.Requests.Cpu().String() != "1" || own.Limits.Cpu().String() != "2" || own.Requests.Memory().String() != "256Mi" {
		t.Errorf("own container %+v", own)
	}
	want := "LimitRanger plugin set: cpu, memory request for container bare; cpu, memory limit for container bare; memory request for container own"
	if got := p.Annotations[limitRangerAnnotation]; got != want {
		t.Errorf("annotation %q, want %q", got, want)
	}
}

func TestLimitRangeValidation(t *testing.T) {
	lr := &corev1.LimitRange{Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer, Min: rl("cpu", "100m"), Max: rl("memory", "1Gi"), MaxLimitRequestRatio: rl("cpu", "2"),
	}}}}
	c := func(req, lim corev1.ResourceList) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim}}}}}
	}
	cases := []struct {
		name string
		pod  *corev1.Pod
		want string
	}{
		{"fits", c(rl("cpu", "200m"), rl("cpu", "400m", "memory", "1Gi")), "[]"},
		{"below min", c(rl("cpu", "50m"), rl("cpu", "100m", "memory", "1Gi")), "[minimum cpu usage per Container is 100m, but request is 50m]"},
		{"above max", c(rl("cpu", "200m"), rl("cpu", "200m", "memory", "2Gi")), "[maximum memory usage per Container is 1Gi, but limit is 2Gi]"},
		{"no limit", c(rl("cpu", "200m"), rl("cpu", "200m")), "[maximum memory usage per Container is 1Gi.  No limit is specified]"},
		{"ratio", c(rl("cpu", "100m"), rl("cpu", "300m", "memory", "1Gi")), "[cpu max limit to request ratio per Container is 2, but provided ratio is 3.000000]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(validateLimitRange(tc.pod, lr)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
