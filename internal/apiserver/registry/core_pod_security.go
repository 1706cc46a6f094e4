package registry

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateUserID(id *int64, fldPath *field.Path) field.ErrorList {
	if id == nil {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range validation.IsValidUserID(*id) {
		errs = append(errs, field.Invalid(fldPath, *id, msg))
	}
	return errs
}

func validateGroupID(id *int64, fldPath *field.Path) field.ErrorList {
	if id == nil {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range validation.IsValidGroupID(*id) {
		errs = append(errs, field.Invalid(fldPath, *id, msg))
	}
	return errs
}

func validateSeccompProfile(sp *corev1.SeccompProfile, fldPath *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	switch sp.Type {
	case corev1.SeccompProfileTypeLocalhost:
		if sp.LocalhostProfile == nil || *sp.LocalhostProfile == "" {
			return field.ErrorList{field.Required(fldPath.Child("localhostProfile"), "must be set when seccomp type is Localhost")}
		}
		return validateRelativePath(*sp.LocalhostProfile, true, fldPath.Child("localhostProfile"))
	case corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
		if sp.LocalhostProfile != nil {
			return field.ErrorList{field.Invalid(fldPath.Child("localhostProfile"), *sp.LocalhostProfile, "can only be set when seccomp type is Localhost")}
		}
		return nil
	case "":
		return field.ErrorList{field.Required(fldPath.Child("type"), "")}
	}
	return field.ErrorList{field.NotSupported(fldPath.Child("type"), sp.Type,
		[]corev1.SeccompProfileType{corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined})}
}

// validatePodSecurityContext checks pod-level ids and policies.
func validatePodSecurityContext(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace && spec.HostPID {
		errs = append(errs, field.Invalid(fldPath.Child("shareProcessNamespace"), true, "ShareProcessNamespace and HostPID cannot both be enabled"))
	}
	sc := spec.SecurityContext
	if sc == nil {
		return errs
	}
	p := fldPath.Child("securityContext")
	errs = append(errs, validateUserID(sc.RunAsUser, p.Child("runAsUser"))...)
	errs = append(errs, validateGroupID(sc.RunAsGroup, p.Child("runAsGroup"))...)
	errs = append(errs, validateGroupID(sc.FSGroup, p.Child("fsGroup"))...)
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, validateGroupID(&g, p.Child("supplementalGroups").Index(i))...)
	}
	if pol := sc.FSGroupChangePolicy; pol != nil && *pol != corev1.FSGroupChangeAlways && *pol != corev1.FSGroupChangeOnRootMismatch {
		errs = append(errs, field.NotSupported(p.Child("fsGroupChangePolicy"), *pol, []corev1.PodFSGroupChangePolicy{corev1.FSGroupChangeOnRootMismatch, corev1.FSGroupChangeAlways}))
	}
	if pol := sc.SupplementalGroupsPolicy; pol != nil && *pol != corev1.SupplementalGroupsPolicyMerge && *pol != corev1.SupplementalGroupsPolicyStrict {
		errs = append(errs, field.NotSupported(p.Child("supplementalGroupsPolicy"), *pol, []corev1.SupplementalGroupsPolicy{corev1.SupplementalGroupsPolicyMerge, corev1.SupplementalGroupsPolicyStrict}))
	}
	for i, s := range sc.Sysctls {
		if s.Name == "" {
			errs = append(errs, field.Required(p.Child("sysctls").Index(i).Child("name"), ""))
		}
	}
	errs = append(errs, validateSeccompProfile(sc.SeccompProfile, p.Child("seccompProfile"))...)
	return errs
}

// validateContainerSecurityContext checks container ids and the
// privilege combinations upstream rejects.
func validateContainerSecurityContext(sc *corev1.SecurityContext, fldPath *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	errs = append(errs, validateUserID(sc.RunAsUser, fldPath.Child("runAsUser"))...)
	errs = append(errs, validateGroupID(sc.RunAsGroup, fldPath.Child("runAsGroup"))...)
	noEscalation := sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
	if noEscalation && sc.Privileged != nil && *sc.Privileged {
		errs = append(errs, field.Invalid(fldPath, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
	}
	if noEscalation && sc.Capabilities != nil {
		for _, c := range sc.Capabilities.Add {
			if c == "SYS_ADMIN" || c == "CAP_SYS_ADMIN" {
				errs = append(errs, field.Invalid(fldPath, sc, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
				break
			}
		}
	}
	if pm := sc.ProcMount; pm != nil && *pm != corev1.DefaultProcMount && *pm != corev1.UnmaskedProcMount {
		errs = append(errs, field.NotSupported(fldPath.Child("procMount"), *pm, []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount}))
	}
	errs = append(errs, validateSeccompProfile(sc.SeccompProfile, fldPath.Child("seccompProfile"))...)
	return errs
}
