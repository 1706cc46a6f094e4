package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// isNativeResource reports whether name is in the kubernetes.io namespace
// (no domain, or a kubernetes.io domain).
func isNativeResource(name corev1.ResourceName) bool {
	s := string(name)
	if !strings.Contains(s, "/") {
		return true
	}
	domain := s[:strings.Index(s, "/")]
	return domain == "kubernetes.io" || strings.HasSuffix(domain, ".kubernetes.io")
}

// isHugePages reports whether name is a hugepages-<size> resource.
func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// validateContainerResourceName accepts the standard container resources
// (cpu, memory, ephemeral-storage, hugepages-*) and extended resources
// outside the kubernetes.io namespace.
func validateContainerResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	if errs := metav1validation.ValidateLabelName(string(name), fldPath); len(errs) > 0 {
		return errs
	}
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return nil
	}
	if isHugePages(name) || !isNativeResource(name) {
		return nil
	}
	return field.ErrorList{field.Invalid(fldPath, name, "must be a standard resource for containers")}
}

// validateResourceList checks names and that quantities are not negative.
func validateResourceList(rl corev1.ResourceList, nameFn func(corev1.ResourceName, *field.Path) field.ErrorList, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, q := range rl {
		p := fldPath.Key(string(name))
		errs = append(errs, nameFn(name, p)...)
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(p, q.String(), "must be greater than or equal to 0"))
		}
		if name == corev1.ResourceCPU || name == corev1.ResourceMemory || isNativeResource(name) {
			continue
		}
		if q.MilliValue()%1000 != 0 {
			errs = append(errs, field.Invalid(p, q.String(), "must be an integer"))
		}
	}
	return errs
}

// validateContainerResources checks a container's requests and limits:
// requests may not exceed limits, and extended resources (which cannot be
// overcommitted) need equal requests and limits.
func validateContainerResources(r *corev1.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	errs := validateResourceList(r.Limits, validateContainerResourceName, fldPath.Child("limits"))
	errs = append(errs, validateResourceList(r.Requests, validateContainerResourceName, fldPath.Child("requests"))...)
	for name, req := range r.Requests {
		p := fldPath.Child("requests").Key(string(name))
		limit, hasLimit := r.Limits[name]
		overcommittable := isNativeResource(name) && !isHugePages(name)
		switch {
		case !overcommittable && !hasLimit:
			errs = append(errs, field.Forbidden(fldPath.Child("limits"), fmt.Sprintf("Limit must be set for non overcommitable resources (%s)", name)))
		case !overcommittable && req.Cmp(limit) != 0:
			errs = append(errs, field.Invalid(p, req.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case hasLimit && req.Cmp(limit) > 0:
			errs = append(errs, field.Invalid(p, req.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return errs
}
