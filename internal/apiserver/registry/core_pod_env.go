package registry

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func validateEnv(env []corev1.EnvVar, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range env {
		p := fldPath.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else {
			for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), ev.Name, msg))
			}
		}
		if ev.ValueFrom != nil {
			errs = append(errs, validateEnvVarSource(ev, p.Child("valueFrom"))...)
		}
	}
	return errs
}

func validateEnvVarSource(ev corev1.EnvVar, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ev.Value != "" {
		errs = append(errs, field.Invalid(fldPath, "", "may not be specified when `value` is not empty"))
	}
	vf := ev.ValueFrom
	switch n := len(setSources(vf)); {
	case n == 0:
		return append(errs, field.Invalid(fldPath, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
	case n > 1:
		return append(errs, field.Invalid(fldPath, "", "may not have more than one field specified at a time"))
	}
	switch {
	case vf.FieldRef != nil:
		errs = append(errs, validateFieldRef(vf.FieldRef, fldPath.Child("fieldRef"))...)
	case vf.ResourceFieldRef != nil:
		errs = append(errs, validateResourceFieldRef(vf.ResourceFieldRef, fldPath.Child("resourceFieldRef"))...)
	case vf.ConfigMapKeyRef != nil:
		errs = append(errs, validateKeyRef(vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key, fldPath.Child("configMapKeyRef"))...)
	case vf.SecretKeyRef != nil:
		errs = append(errs, validateKeyRef(vf.SecretKeyRef.Name, vf.SecretKeyRef.Key, fldPath.Child("secretKeyRef"))...)
	case vf.FileKeyRef != nil:
		fp := fldPath.Child("fileKeyRef")
		for _, f := range []struct{ name, value string }{{"volumeName", vf.FileKeyRef.VolumeName}, {"path", vf.FileKeyRef.Path}, {"key", vf.FileKeyRef.Key}} {
			if f.value == "" {
				errs = append(errs, field.Required(fp.Child(f.name), ""))
			}
		}
		if vf.FileKeyRef.Path != "" {
			errs = append(errs, validateRelativePath(vf.FileKeyRef.Path, true, fp.Child("path"))...)
		}
	}
	return errs
}

func validateKeyRef(name, key string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(fldPath.Child("name"), ""))
	}
	if key == "" {
		return append(errs, field.Required(fldPath.Child("key"), ""))
	}
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(fldPath.Child("key"), key, msg))
	}
	return errs
}

// validateFieldRef checks a downward-API field reference against the pod
// fields upstream exposes.
func validateFieldRef(f *corev1.ObjectFieldSelector, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if f.APIVersion == "" {
		errs = append(errs, field.Required(fldPath.Child("apiVersion"), ""))
	} else if f.APIVersion != "v1" {
		errs = append(errs, field.Invalid(fldPath.Child("apiVersion"), f.APIVersion, "only v1 is supported"))
	}
	if f.FieldPath == "" {
		return append(errs, field.Required(fldPath.Child("fieldPath"), ""))
	}
	for _, prefix := range []string{"metadata.labels['", "metadata.annotations['"} {
		if strings.HasPrefix(f.FieldPath, prefix) && strings.HasSuffix(f.FieldPath, "']") {
			return errs
		}
	}
	supported := []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
		"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}
	if !sets.New(supported...).Has(f.FieldPath) {
		errs = append(errs, field.NotSupported(fldPath.Child("fieldPath"), f.FieldPath, supported))
	}
	return errs
}

func validateResourceFieldRef(r *corev1.ResourceFieldSelector, fldPath *field.Path) field.ErrorList {
	if r.Resource == "" {
		return field.ErrorList{field.Required(fldPath.Child("resource"), "")}
	}
	supported := []string{"limits.cpu", "limits.memory", "limits.ephemeral-storage", "requests.cpu", "requests.memory", "requests.ephemeral-storage"}
	if sets.New(supported...).Has(r.Resource) || strings.HasPrefix(r.Resource, "limits.hugepages-") || strings.HasPrefix(r.Resource, "requests.hugepages-") {
		if r.Divisor.Sign() < 0 {
			return field.ErrorList{field.Invalid(fldPath.Child("divisor"), r.Divisor.String(), "must be greater than or equal to 0")}
		}
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath.Child("resource"), r.Resource, supported)}
}

func validateEnvFrom(envFrom []corev1.EnvFromSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ef := range envFrom {
		p := fldPath.Index(i)
		if ef.Prefix != "" {
			for _, msg := range validation.IsRelaxedEnvVarName(ef.Prefix) {
				errs = append(errs, field.Invalid(p.Child("prefix"), ef.Prefix, msg))
			}
		}
		switch {
		case ef.ConfigMapRef != nil && ef.SecretRef != nil:
			errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
		case ef.ConfigMapRef != nil:
			if ef.ConfigMapRef.Name == "" {
				errs = append(errs, field.Required(p.Child("configMapRef", "name"), ""))
			}
		case ef.SecretRef != nil:
			if ef.SecretRef.Name == "" {
				errs = append(errs, field.Required(p.Child("secretRef", "name"), ""))
			}
		default:
			errs = append(errs, field.Invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"))
		}
	}
	return errs
}
