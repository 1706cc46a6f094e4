package registry

import (
	"net"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateEphemeralContainersUpdate checks a write to
// pods/ephemeralcontainers: containers may be added, never changed or
// removed, and the new ones must be valid.
func validateEphemeralContainersUpdate(pod, old *corev1.Pod) field.ErrorList {
	p := field.NewPath("spec", "ephemeralContainers")
	var errs field.ErrorList
	current := map[string]*corev1.EphemeralContainer{}
	for i := range pod.Spec.EphemeralContainers {
		current[pod.Spec.EphemeralContainers[i].Name] = &pod.Spec.EphemeralContainers[i]
	}
	for _, o := range old.Spec.EphemeralContainers {
		n, ok := current[o.Name]
		switch {
		case !ok:
			errs = append(errs, field.Forbidden(p, "existing ephemeral containers \""+o.Name+"\" may not be removed"))
		case !apiequality.Semantic.DeepEqual(*n, o):
			errs = append(errs, field.Forbidden(p, "existing ephemeral containers \""+o.Name+"\" may not be changed"))
		}
	}
	vols := map[string]*corev1.VolumeSource{}
	for i := range pod.Spec.Volumes {
		vols[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i].VolumeSource
	}
	names := sets.New[string]()
	for _, c := range pod.Spec.Containers {
		names.Insert(c.Name)
	}
	for _, c := range pod.Spec.InitContainers {
		names.Insert(c.Name)
	}
	errs = append(errs, validateEphemeralContainers(pod.Spec.EphemeralContainers, vols, names, p)...)
	for i, c := range pod.Spec.EphemeralContainers {
		if c.TargetContainerName != "" && !names.Has(c.TargetContainerName) {
			errs = append(errs, field.NotFound(p.Index(i).Child("targetContainerName"), c.TargetContainerName))
		}
	}
	return errs
}

// validatePodResize checks a write to pods/resize: only the cpu and memory
// requests and limits of containers may change, and the QoS class must
// stay the same.
func validatePodResize(pod, old *corev1.Pod) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	for i := range pod.Spec.Containers {
		errs = append(errs, validateContainerResources(&pod.Spec.Containers[i].Resources, p.Child("containers").Index(i).Child("resources"))...)
	}
	munged := pod.Spec.DeepCopy()
	restore := func(ctrs, oldCtrs []corev1.Container) {
		for i := range ctrs {
			if i < len(oldCtrs) {
				ctrs[i].Resources = withOldCPUMemory(ctrs[i].Resources, oldCtrs[i].Resources)
				ctrs[i].ResizePolicy = oldCtrs[i].ResizePolicy
			}
		}
	}
	restore(munged.Containers, old.Spec.Containers)
	restore(munged.InitContainers, old.Spec.InitContainers)
	if !apiequality.Semantic.DeepEqual(*munged, old.Spec) {
		errs = append(errs, field.Forbidden(p, "only cpu and memory resources are mutable\n"+diff.Diff(old.Spec, *munged)))
	}
	if podQOSClass(&pod.Spec) != podQOSClass(&old.Spec) {
		errs = append(errs, field.Forbidden(p, "Pod QOS Class may not change as a result of resizing"))
	}
	return errs
}

// withOldCPUMemory returns r with its cpu and memory entries replaced by
// old's.
func withOldCPUMemory(r, old corev1.ResourceRequirements) corev1.ResourceRequirements {
	out := *r.DeepCopy()
	fix := func(dst *corev1.ResourceList, src corev1.ResourceList) {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			q, ok := src[name]
			switch {
			case ok && *dst == nil:
				*dst = corev1.ResourceList{name: q}
			case ok:
				(*dst)[name] = q
			case *dst != nil:
				delete(*dst, name)
			}
		}
		if *dst != nil && len(*dst) == 0 && src == nil {
			*dst = nil
		}
	}
	fix(&out.Requests, old.Requests)
	fix(&out.Limits, old.Limits)
	return out
}

// validateServiceStatusUpdate checks a write to services/status: load
// balancer ingress points are IPs or hostnames.
func validateServiceStatusUpdate(svc, _ *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("status", "loadBalancer", "ingress")
	for i, ing := range svc.Status.LoadBalancer.Ingress {
		ip := p.Index(i)
		if ing.IP != "" {
			errs = append(errs, validation.IsValidIP(ip.Child("ip"), ing.IP)...)
		}
		if ing.Hostname != "" {
			errs = append(errs, validateSubdomainField(ing.Hostname, ip.Child("hostname"))...)
			if net.ParseIP(ing.Hostname) != nil {
				errs = append(errs, field.Invalid(ip.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
			}
		}
		if m := ing.IPMode; m != nil {
			if *m != corev1.LoadBalancerIPModeVIP && *m != corev1.LoadBalancerIPModeProxy {
				errs = append(errs, field.NotSupported(ip.Child("ipMode"), *m, []corev1.LoadBalancerIPMode{corev1.LoadBalancerIPModeVIP, corev1.LoadBalancerIPModeProxy}))
			} else if ing.IP == "" {
				errs = append(errs, field.Forbidden(ip.Child("ipMode"), "may not be specified when `ip` is not set"))
			}
		}
	}
	return errs
}
