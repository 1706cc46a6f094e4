package registry

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestPodQOSBeforeDefaulting(t *testing.T) {
	spec := &corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Resources: corev1.ResourceRequirements{
		Limits: corev1.ResourceList{"cpu": coreQty("1"), "memory": coreQty("1Gi")},
	}}}}
	if got := podQOSClass(spec); got != corev1.PodQOSGuaranteed {
		t.Errorf("qos = %s, want Guaranteed (requests default to limits)", got)
	}
}

func TestValidateEphemeralContainersUpdate(t *testing.T) {
	debug := corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: "debug", Image: "busybox", ImagePullPolicy: "IfNotPresent", TerminationMessagePolicy: "File"}, TargetContainerName: "app"}
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"add", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, *debug.DeepCopy())
			p.Spec.EphemeralContainers[1].Name = "debug2"
		}, nil},
		{"remove", func(p *corev1.Pod) { p.Spec.EphemeralContainers = nil }, []string{"Forbidden spec.ephemeralContainers"}},
		{"change", func(p *corev1.Pod) { p.Spec.EphemeralContainers[0].Image = "alpine" }, []string{"Forbidden spec.ephemeralContainers"}},
		{"name taken", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, *debug.DeepCopy())
			p.Spec.EphemeralContainers[1].Name = "app"
		}, []string{"Duplicate spec.ephemeralContainers[1].name"}},
		{"unknown target", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, *debug.DeepCopy())
			p.Spec.EphemeralContainers[1].Name, p.Spec.EphemeralContainers[1].TargetContainerName = "debug2", "nope"
		}, []string{"NotFound spec.ephemeralContainers[1].targetContainerName"}},
		{"with ports", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = append(p.Spec.EphemeralContainers, *debug.DeepCopy())
			p.Spec.EphemeralContainers[1].Name = "debug2"
			p.Spec.EphemeralContainers[1].Ports = []corev1.ContainerPort{{ContainerPort: 80}}
		}, []string{"Forbidden spec.ephemeralContainers[1].ports"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := corePod()
			old.Spec.EphemeralContainers = []corev1.EphemeralContainer{debug}
			pod := old.DeepCopy()
			tt.mutate(pod)
			coreExpectErrs(t, validateEphemeralContainersUpdate(pod, old), tt.want...)
		})
	}
}

func TestValidatePodResize(t *testing.T) {
	base := func() *corev1.Pod {
		p := corePod()
		p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
			Requests: corev1.ResourceList{"cpu": coreQty("100m"), "memory": coreQty("64Mi")},
			Limits:   corev1.ResourceList{"cpu": coreQty("1"), "memory": coreQty("1Gi")},
		}
		return p
	}
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"cpu up", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Requests["cpu"] = coreQty("200m") }, nil},
		{"memory limit down", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Limits["memory"] = coreQty("512Mi") }, nil},
		{"image change", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:2" }, []string{"Forbidden spec"}},
		{"qos change", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"cpu": coreQty("1"), "memory": coreQty("1Gi")}
		}, []string{"Forbidden spec"}},
		{"requests above limits", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Requests["cpu"] = coreQty("2") }, []string{"Invalid spec.containers[0].resources.requests[cpu]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := base()
			pod := old.DeepCopy()
			tt.mutate(pod)
			coreExpectErrs(t, validatePodResize(pod, old), tt.want...)
		})
	}
}

func TestValidateServiceStatusUpdate(t *testing.T) {
	tests := []struct {
		name    string
		ingress []corev1.LoadBalancerIngress
		want    []string
	}{
		{"ip", []corev1.LoadBalancerIngress{{IP: "192.0.2.10", IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}, nil},
		{"hostname", []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}, nil},
		{"bad ip", []corev1.LoadBalancerIngress{{IP: "192.0.2"}}, []string{"Invalid status.loadBalancer.ingress[0].ip"}},
		{"ip as hostname", []corev1.LoadBalancerIngress{{Hostname: "192.0.2.1"}}, []string{"Invalid status.loadBalancer.ingress[0].hostname"}},
		{"ipMode without ip", []corev1.LoadBalancerIngress{{Hostname: "lb.example.com", IPMode: ptr.To(corev1.LoadBalancerIPModeProxy)}}, []string{"Forbidden status.loadBalancer.ingress[0].ipMode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := coreService()
			svc.Status.LoadBalancer.Ingress = tt.ingress
			coreExpectErrs(t, validateServiceStatusUpdate(svc, coreService()), tt.want...)
		})
	}
}
