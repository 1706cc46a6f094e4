package registry

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validatePodTemplateSpec checks a template's labels, annotations and spec.
func validatePodTemplateSpec(t *corev1.PodTemplateSpec, fldPath *field.Path) field.ErrorList {
	errs := validateTemplateMeta(&t.ObjectMeta, fldPath.Child("metadata"))
	return append(errs, validatePodSpec(&t.Spec, &t.ObjectMeta, fldPath.Child("spec"))...)
}

// validatePodSpec checks a (defaulted) pod spec. The pod's (or template's)
// metadata is taken for checks that depend on annotations; none do yet.
func validatePodSpec(spec *corev1.PodSpec, _ *metav1.ObjectMeta, fldPath *field.Path) field.ErrorList {
	vols, errs := validateVolumes(spec.Volumes, fldPath.Child("volumes"))
	names := sets.New[string]()
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(fldPath.Child("containers"), ""))
	}
	errs = append(errs, validateContainers(spec.Containers, regularContainer, spec, vols, names, fldPath.Child("containers"))...)
	errs = append(errs, validateContainers(spec.InitContainers, initContainer, spec, vols, names, fldPath.Child("initContainers"))...)
	errs = append(errs, validateEphemeralContainers(spec.EphemeralContainers, vols, names, fldPath.Child("ephemeralContainers"))...)
	errs = append(errs, validateHostPortConflicts(spec.Containers, fldPath.Child("containers"))...)
	errs = append(errs, validateRestartPolicy(spec.RestartPolicy, fldPath.Child("restartPolicy"))...)
	errs = append(errs, validateDNS(spec, fldPath)...)
	errs = append(errs, metav1validation.ValidateLabels(spec.NodeSelector, fldPath.Child("nodeSelector"))...)
	errs = append(errs, validatePodSecurityContext(spec, fldPath)...)
	errs = append(errs, validateTolerations(spec.Tolerations, fldPath.Child("tolerations"))...)
	errs = append(errs, validateAffinity(spec.Affinity, fldPath.Child("affinity"))...)
	errs = append(errs, validateTopologySpread(spec.TopologySpreadConstraints, fldPath.Child("topologySpreadConstraints"))...)
	errs = append(errs, validatePodNames(spec, fldPath)...)
	errs = append(errs, validatePodMisc(spec, fldPath)...)
	return errs
}

func validateRestartPolicy(rp corev1.RestartPolicy, fldPath *field.Path) field.ErrorList {
	return validateRequiredEnum(rp, []corev1.RestartPolicy{corev1.RestartPolicyAlways, corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever}, fldPath)
}

// validateRequiredEnum requires v to be set and one of allowed (listed in
// the error in that order).
func validateRequiredEnum[T ~string](v T, allowed []T, fldPath *field.Path) field.ErrorList {
	if v == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fldPath, v, allowed)}
}

// validateSubdomainField checks an optional field that must be a DNS-1123
// subdomain when set.
func validateSubdomainField(value string, fldPath *field.Path) field.ErrorList {
	if value == "" {
		return nil
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(value) {
		errs = append(errs, field.Invalid(fldPath, value, msg))
	}
	return errs
}

// validateLabelField checks an optional field that must be a DNS-1123
// label when set.
func validateLabelField(value string, fldPath *field.Path) field.ErrorList {
	if value == "" {
		return nil
	}
	return validateDNSLabel(value, fldPath)
}

// validatePodNames checks the fields that name other objects or hosts.
func validatePodNames(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateSubdomainField(spec.ServiceAccountName, fldPath.Child("serviceAccountName"))...)
	errs = append(errs, validateSubdomainField(spec.NodeName, fldPath.Child("nodeName"))...)
	errs = append(errs, validateSubdomainField(spec.PriorityClassName, fldPath.Child("priorityClassName"))...)
	errs = append(errs, validateLabelField(spec.Hostname, fldPath.Child("hostname"))...)
	errs = append(errs, validateLabelField(spec.Subdomain, fldPath.Child("subdomain"))...)
	for i, s := range spec.ImagePullSecrets {
		if s.Name == "" {
			errs = append(errs, field.Required(fldPath.Child("imagePullSecrets").Index(i).Child("name"), ""))
		}
	}
	for i, ha := range spec.HostAliases {
		p := fldPath.Child("hostAliases").Index(i)
		errs = append(errs, validation.IsValidIP(p.Child("ip"), ha.IP)...)
		for j, h := range ha.Hostnames {
			errs = append(errs, validateSubdomainField(h, p.Child("hostnames").Index(j))...)
		}
	}
	return errs
}

// validatePodMisc checks deadlines, readiness gates, scheduling gates and
// overhead.
func validatePodMisc(spec *corev1.PodSpec, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if d := spec.ActiveDeadlineSeconds; d != nil && (*d < 1 || *d > math.MaxInt32) {
		errs = append(errs, field.Invalid(fldPath.Child("activeDeadlineSeconds"), *d, validation.InclusiveRangeError(1, math.MaxInt32)))
	}
	for i, g := range spec.ReadinessGates {
		errs = append(errs, metav1validation.ValidateLabelName(string(g.ConditionType), fldPath.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	gates := sets.New[string]()
	for i, g := range spec.SchedulingGates {
		p := fldPath.Child("schedulingGates").Index(i).Child("name")
		errs = append(errs, metav1validation.ValidateLabelName(g.Name, p)...)
		if gates.Has(g.Name) {
			errs = append(errs, field.Duplicate(p, g.Name))
		}
		gates.Insert(g.Name)
	}
	for name, q := range spec.Overhead {
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(fldPath.Child("overhead").Key(string(name)), q.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}
