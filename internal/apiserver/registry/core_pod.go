package registry

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/diff"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// podUpdateForbiddenMsg lists what a pod update may change, in upstream's
// words.
const podUpdateForbiddenMsg = "pod updates may not change fields other than `spec.containers[*].image`," +
	"`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations)," +
	"`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

func podStrategy() Strategy {
	return Typed[*corev1.Pod]{
		DefaultFunc: defaultPod,
		PrepareForCreateFunc: func(pod *corev1.Pod) {
			pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: podQOSClass(&pod.Spec)}
		},
		PrepareForUpdateFunc: func(pod, old *corev1.Pod) {
			// Ephemeral containers change only through their subresource.
			pod.Spec.EphemeralContainers = old.Spec.EphemeralContainers
		},
		ValidateFunc: func(pod *corev1.Pod) field.ErrorList {
			errs := validatePodSpec(&pod.Spec, &pod.ObjectMeta, field.NewPath("spec"))
			if len(pod.Spec.EphemeralContainers) > 0 {
				errs = append(errs, field.Forbidden(field.NewPath("spec", "ephemeralContainers"), "cannot be set on create"))
			}
			return errs
		},
		ValidateUpdateFunc: func(pod, old *corev1.Pod) field.ErrorList {
			errs := validatePodSpec(&pod.Spec, &pod.ObjectMeta, field.NewPath("spec"))
			return append(errs, validatePodSpecUpdate(&pod.Spec, &old.Spec, field.NewPath("spec"))...)
		},
	}
}

// validatePodSpecUpdate allows only the changes upstream allows on a
// running pod: images, a shorter activeDeadlineSeconds, added tolerations,
// removed scheduling gates, and terminationGracePeriodSeconds going from
// negative to 1.
func validatePodSpecUpdate(spec, old *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	p := fldPath.Child("activeDeadlineSeconds")
	switch {
	case old.ActiveDeadlineSeconds != nil && spec.ActiveDeadlineSeconds == nil:
		errs = append(errs, field.Invalid(p, spec.ActiveDeadlineSeconds, "must not update from a positive integer to nil value"))
	case old.ActiveDeadlineSeconds != nil && *spec.ActiveDeadlineSeconds > *old.ActiveDeadlineSeconds:
		errs = append(errs, field.Invalid(p, *spec.ActiveDeadlineSeconds, "must be less than or equal to previous value"))
	}
	errs = append(errs, validateOnlyAddedTolerations(spec.Tolerations, old.Tolerations, fldPath.Child("tolerations"))...)
	errs = append(errs, validateOnlyRemovedGates(spec, old, fldPath.Child("schedulingGates"))...)

	// Put the old values back into the mutable fields: what is left must
	// equal the old spec.
	munged := spec.DeepCopy()
	for i := range munged.Containers {
		if i < len(old.Containers) {
			munged.Containers[i].Image = old.Containers[i].Image
		}
	}
	for i := range munged.InitContainers {
		if i < len(old.InitContainers) {
			munged.InitContainers[i].Image = old.InitContainers[i].Image
		}
	}
	munged.ActiveDeadlineSeconds = old.ActiveDeadlineSeconds
	munged.Tolerations = old.Tolerations
	munged.SchedulingGates = old.SchedulingGates
	munged.EphemeralContainers = old.EphemeralContainers
	if g, og := spec.TerminationGracePeriodSeconds, old.TerminationGracePeriodSeconds; g != nil && og != nil && *og < 0 && *g == 1 {
		munged.TerminationGracePeriodSeconds = og
	}
	if !apiequality.Semantic.DeepEqual(munged, old) {
		errs = append(errs, field.Forbidden(fldPath, podUpdateForbiddenMsg+"\n"+diff.Diff(old, munged)))
	}
	return errs
}

// validateOnlyAddedTolerations requires every old toleration to remain,
// except that a NoExecute toleration's tolerationSeconds may shrink.
func validateOnlyAddedTolerations(tols, old []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, o := range old {
		found := false
		for _, t := range tols {
			if t.Key != o.Key || t.Operator != o.Operator || t.Value != o.Value || t.Effect != o.Effect {
				continue
			}
			switch {
			case o.TolerationSeconds == nil && t.TolerationSeconds == nil:
				found = true
			case o.TolerationSeconds != nil && t.TolerationSeconds != nil && *t.TolerationSeconds <= *o.TolerationSeconds:
				found = true
			}
		}
		if !found {
			errs = append(errs, field.Forbidden(fldPath, "existing toleration can not be modified except its tolerationSeconds"))
		}
	}
	return errs
}

// validateOnlyRemovedGates lets scheduling gates be removed, never added.
func validateOnlyRemovedGates(spec, old *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	had := map[string]bool{}
	for _, g := range old.SchedulingGates {
		had[g.Name] = true
	}
	for i, g := range spec.SchedulingGates {
		if !had[g.Name] {
			return field.ErrorList{field.Forbidden(fldPath.Index(i), "only deletion is allowed, but found new scheduling gate '"+g.Name+"'")}
		}
	}
	return nil
}

// validatePodStatusUpdate checks a write to pods/status: IPs are valid and
// consistent, container statuses name real containers, the QoS class stays
// and a terminal phase stays terminal.
func validatePodStatusUpdate(pod, old *corev1.Pod) field.ErrorList {
	p := field.NewPath("status")
	var errs field.ErrorList
	terminal := func(ph corev1.PodPhase) bool { return ph == corev1.PodSucceeded || ph == corev1.PodFailed }
	if terminal(old.Status.Phase) && pod.Status.Phase != old.Status.Phase {
		errs = append(errs, field.Forbidden(p.Child("phase"), fmt.Sprintf("cannot transition from terminal phase %s to %s", old.Status.Phase, pod.Status.Phase)))
	}
	if old.Status.QOSClass != "" {
		errs = append(errs, apimachineryvalidation.ValidateImmutableField(pod.Status.QOSClass, old.Status.QOSClass, p.Child("qosClass"))...)
	}
	errs = append(errs, validateStatusIPs(pod.Status.PodIP, pod.Status.PodIPs, p.Child("podIPs"))...)
	var hostIPs []corev1.PodIP
	for _, h := range pod.Status.HostIPs {
		hostIPs = append(hostIPs, corev1.PodIP(h))
	}
	errs = append(errs, validateStatusIPs(pod.Status.HostIP, hostIPs, p.Child("hostIPs"))...)
	errs = append(errs, validateContainerStatusNames(pod.Status.ContainerStatuses, pod.Spec.Containers, p.Child("containerStatuses"))...)
	errs = append(errs, validateContainerStatusNames(pod.Status.InitContainerStatuses, pod.Spec.InitContainers, p.Child("initContainerStatuses"))...)
	return errs
}

// validateStatusIPs checks a list of IPs whose first entry mirrors ip.
func validateStatusIPs(ip string, ips []corev1.PodIP, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ips) > 0 && ips[0].IP != ip {
		errs = append(errs, field.Invalid(fldPath.Index(0).Child("ip"), ips[0].IP, "must be equal to the singular IP field"))
	}
	if len(ips) > 2 {
		errs = append(errs, field.TooMany(fldPath, len(ips), 2))
	}
	seen := map[string]bool{}
	for i, x := range ips {
		errs = append(errs, validation.IsValidIP(fldPath.Index(i).Child("ip"), x.IP)...)
		if seen[x.IP] {
			errs = append(errs, field.Duplicate(fldPath.Index(i).Child("ip"), x.IP))
		}
		seen[x.IP] = true
	}
	return errs
}

func validateContainerStatusNames(statuses []corev1.ContainerStatus, ctrs []corev1.Container, fldPath *field.Path) field.ErrorList {
	names := map[string]bool{}
	for _, c := range ctrs {
		names[c.Name] = true
	}
	var errs field.ErrorList
	for i, s := range statuses {
		if !names[s.Name] {
			errs = append(errs, field.NotFound(fldPath.Index(i).Child("name"), s.Name))
		}
	}
	return errs
}

// podQOSClass computes the QoS class from cpu and memory requests and
// limits: Guaranteed when every container limits both and requests equal
// limits, BestEffort when nothing is requested or limited, else Burstable.
func podQOSClass(spec *corev1.PodSpec) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	add := func(into corev1.ResourceList, rl corev1.ResourceList) int {
		n := 0
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			q, ok := rl[name]
			if !ok || q.Sign() <= 0 {
				continue
			}
			n++
			sum := into[name]
			sum.Add(q)
			into[name] = sum
		}
		return n
	}
	var all []corev1.ResourceRequirements
	if spec.Resources != nil {
		all = []corev1.ResourceRequirements{*spec.Resources}
	} else {
		for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
			all = append(all, c.Resources)
		}
	}
	for _, r := range all {
		// Requests default to limits; count them so even before defaulting.
		r = *r.DeepCopy()
		defaultRequestsFromLimits(&r)
		add(requests, r.Requests)
		if add(limits, r.Limits) != 2 {
			guaranteed = false
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed && len(requests) == len(limits) && equalQuantities(requests, limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func equalQuantities(a, b corev1.ResourceList) bool {
	for name, q := range a {
		other, ok := b[name]
		if !ok || q.Cmp(other) != 0 {
			return false
		}
	}
	return true
}
