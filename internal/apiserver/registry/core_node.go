package registry

import (
	"net"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func nodeStrategy() Strategy {
	return Typed[*corev1.Node]{
		DefaultFunc: func(n *corev1.Node) {
			// Allocatable defaults to capacity.
			if n.Status.Allocatable == nil && n.Status.Capacity != nil {
				n.Status.Allocatable = n.Status.Capacity.DeepCopy()
			}
		},
		ValidateFunc: func(n *corev1.Node) field.ErrorList {
			return validateNodeSpec(&n.Spec, field.NewPath("spec"))
		},
		ValidateUpdateFunc: validateNodeUpdate,
	}
}

func validateNodeSpec(spec *corev1.NodeSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.PodCIDR != "" && (len(spec.PodCIDRs) == 0 || spec.PodCIDRs[0] != spec.PodCIDR) {
		errs = append(errs, field.Invalid(p.Child("podCIDRs"), spec.PodCIDRs, "the first entry must equal podCIDR"))
	}
	if len(spec.PodCIDRs) > 2 {
		errs = append(errs, field.TooMany(p.Child("podCIDRs"), len(spec.PodCIDRs), 2))
	}
	if spec.PodCIDR != "" {
		errs = append(errs, validation.IsValidCIDR(p.Child("podCIDR"), spec.PodCIDR)...)
	}
	var families []bool
	for i, cidr := range spec.PodCIDRs {
		cerrs := validation.IsValidCIDR(p.Child("podCIDRs").Index(i), cidr)
		errs = append(errs, cerrs...)
		if len(cerrs) == 0 {
			ip, _, _ := net.ParseCIDR(cidr)
			families = append(families, ip.To4() != nil)
		}
	}
	if len(families) == 2 && families[0] == families[1] {
		errs = append(errs, field.Invalid(p.Child("podCIDRs"), spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
	}
	errs = append(errs, validateTaints(spec.Taints, p.Child("taints"))...)
	return errs
}

// validateNodeUpdate adds the update rules: podCIDRs and providerID may be
// set once, never changed.
func validateNodeUpdate(n, old *corev1.Node) field.ErrorList {
	p := field.NewPath("spec")
	errs := validateNodeSpec(&n.Spec, p)
	if len(old.Spec.PodCIDRs) > 0 && !equalStrings(n.Spec.PodCIDRs, old.Spec.PodCIDRs) {
		errs = append(errs, field.Forbidden(p.Child("podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if old.Spec.ProviderID != "" && n.Spec.ProviderID != old.Spec.ProviderID {
		errs = append(errs, field.Forbidden(p.Child("providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return errs
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
