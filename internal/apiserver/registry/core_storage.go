package registry

import (
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func persistentVolumeStrategy() Strategy {
	return Typed[*corev1.PersistentVolume]{
		DefaultFunc: func(pv *corev1.PersistentVolume) {
			if pv.Spec.PersistentVolumeReclaimPolicy == "" {
				pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
			}
			if pv.Spec.VolumeMode == nil {
				pv.Spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
			}
			if pv.Status.Phase == "" {
				pv.Status.Phase = corev1.VolumePending
			}
		},
		PrepareForCreateFunc: func(pv *corev1.PersistentVolume) {
			pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending}
		},
		ValidateFunc: func(pv *corev1.PersistentVolume) field.ErrorList {
			return validatePersistentVolumeSpec(&pv.Spec, field.NewPath("spec"))
		},
		ValidateUpdateFunc: func(pv, old *corev1.PersistentVolume) field.ErrorList {
			p := field.NewPath("spec")
			errs := validatePersistentVolumeSpec(&pv.Spec, p)
			if !apiequality.Semantic.DeepEqual(pv.Spec.PersistentVolumeSource, old.Spec.PersistentVolumeSource) {
				errs = append(errs, field.Forbidden(p.Child("persistentvolumesource"), "spec.persistentvolumesource is forbidden once set"))
			}
			errs = append(errs, apimachineryvalidation.ValidateImmutableField(pv.Spec.VolumeMode, old.Spec.VolumeMode, p.Child("volumeMode"))...)
			if old.Spec.NodeAffinity != nil {
				errs = append(errs, apimachineryvalidation.ValidateImmutableField(pv.Spec.NodeAffinity, old.Spec.NodeAffinity, p.Child("nodeAffinity"))...)
			}
			return errs
		},
	}
}

func supportedAccessModes() []corev1.PersistentVolumeAccessMode {
	return []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod}
}

// validateAccessModes requires at least one known mode; ReadWriteOncePod
// may not be combined with others.
func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, fldPath *field.Path) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var errs field.ErrorList
	supported := sets.New(supportedAccessModes()...)
	for _, m := range modes {
		if !supported.Has(m) {
			errs = append(errs, field.NotSupported(fldPath, m, supportedAccessModes()))
		}
		if m == corev1.ReadWriteOncePod && len(modes) > 1 {
			errs = append(errs, field.Forbidden(fldPath, "may not use ReadWriteOncePod with other access modes"))
		}
	}
	return errs
}

func validateVolumeMode(mode *corev1.PersistentVolumeMode, fldPath *field.Path) field.ErrorList {
	if mode != nil && *mode != corev1.PersistentVolumeBlock && *mode != corev1.PersistentVolumeFilesystem {
		return field.ErrorList{field.NotSupported(fldPath, *mode, []corev1.PersistentVolumeMode{corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem})}
	}
	return nil
}

func validatePersistentVolumeSpec(spec *corev1.PersistentVolumeSpec, fldPath *field.Path) field.ErrorList {
	errs := validateAccessModes(spec.AccessModes, fldPath.Child("accessModes"))
	if len(spec.Capacity) == 0 {
		errs = append(errs, field.Required(fldPath.Child("capacity"), ""))
	}
	for name, q := range spec.Capacity {
		p := fldPath.Child("capacity").Key(string(name))
		if name != corev1.ResourceStorage {
			errs = append(errs, field.NotSupported(p, name, []corev1.ResourceName{corev1.ResourceStorage}))
		} else if q.Sign() <= 0 {
			errs = append(errs, field.Invalid(p, q.String(), "must be greater than zero"))
		}
	}
	policies := []corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle, corev1.PersistentVolumeReclaimRetain}
	if !sets.New(policies...).Has(spec.PersistentVolumeReclaimPolicy) {
		errs = append(errs, field.NotSupported(fldPath.Child("persistentVolumeReclaimPolicy"), spec.PersistentVolumeReclaimPolicy, policies))
	}
	errs = append(errs, validateVolumeMode(spec.VolumeMode, fldPath.Child("volumeMode"))...)
	set := setSources(&spec.PersistentVolumeSource)
	switch {
	case len(set) == 0:
		errs = append(errs, field.Required(fldPath, "must specify a volume type"))
	case len(set) > 1:
		errs = append(errs, field.Forbidden(fldPath.Child(set[1]), "may not specify more than 1 volume type"))
	case spec.HostPath != nil:
		errs = append(errs, validateHostPath(spec.HostPath, fldPath.Child("hostPath"))...)
	case spec.NFS != nil:
		errs = append(errs, validateNFS(spec.NFS, fldPath.Child("nfs"))...)
	case spec.Local != nil && spec.Local.Path == "":
		errs = append(errs, field.Required(fldPath.Child("local", "path"), ""))
	case spec.CSI != nil && spec.CSI.Driver == "":
		errs = append(errs, field.Required(fldPath.Child("csi", "driver"), ""))
	}
	if spec.Local != nil && spec.NodeAffinity == nil {
		errs = append(errs, field.Required(fldPath.Child("nodeAffinity"), "Local volume requires node affinity"))
	}
	if spec.StorageClassName != "" {
		errs = append(errs, validateSubdomainField(spec.StorageClassName, fldPath.Child("storageClassName"))...)
	}
	return errs
}

// defaultPVCSpec defaults a claim spec (also used by ephemeral volumes).
func defaultPVCSpec(spec *corev1.PersistentVolumeClaimSpec) {
	if spec.VolumeMode == nil {
		spec.VolumeMode = ptr.To(corev1.PersistentVolumeFilesystem)
	}
}

func persistentVolumeClaimStrategy() Strategy {
	return Typed[*corev1.PersistentVolumeClaim]{
		DefaultFunc: func(pvc *corev1.PersistentVolumeClaim) {
			defaultPVCSpec(&pvc.Spec)
			if pvc.Status.Phase == "" {
				pvc.Status.Phase = corev1.ClaimPending
			}
		},
		PrepareForCreateFunc: func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
		},
		ValidateFunc: func(pvc *corev1.PersistentVolumeClaim) field.ErrorList {
			return validatePVCSpec(&pvc.Spec, field.NewPath("spec"))
		},
		ValidateUpdateFunc: validatePVCUpdate,
	}
}

func validatePVCSpec(spec *corev1.PersistentVolumeClaimSpec, fldPath *field.Path) field.ErrorList {
	errs := validateAccessModes(spec.AccessModes, fldPath.Child("accessModes"))
	errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, fldPath.Child("selector"))...)
	storage, ok := spec.Resources.Requests[corev1.ResourceStorage]
	switch {
	case !ok:
		errs = append(errs, field.Required(fldPath.Child("resources").Key(string(corev1.ResourceStorage)), ""))
	case storage.Sign() <= 0:
		errs = append(errs, field.Invalid(fldPath.Child("resources").Key(string(corev1.ResourceStorage)), storage.String(), "must be greater than zero"))
	}
	errs = append(errs, validateVolumeMode(spec.VolumeMode, fldPath.Child("volumeMode"))...)
	if spec.StorageClassName != nil {
		errs = append(errs, validateSubdomainField(*spec.StorageClassName, fldPath.Child("storageClassName"))...)
	}
	return errs
}

// validatePVCUpdate allows only binding (volumeName from empty), storage
// request increases of bound claims and volumeAttributesClassName changes.
func validatePVCUpdate(pvc, old *corev1.PersistentVolumeClaim) field.ErrorList {
	p := field.NewPath("spec")
	errs := validatePVCSpec(&pvc.Spec, p)
	oldSpec := old.Spec.DeepCopy()
	if oldSpec.VolumeName == "" {
		oldSpec.VolumeName = pvc.Spec.VolumeName
	}
	if oldSpec.StorageClassName == nil {
		oldSpec.StorageClassName = pvc.Spec.StorageClassName
	}
	if old.Status.Phase == corev1.ClaimBound {
		oldSpec.Resources.Requests = pvc.Spec.Resources.Requests
	}
	oldSpec.VolumeAttributesClassName = pvc.Spec.VolumeAttributesClassName
	if !apiequality.Semantic.DeepEqual(*oldSpec, pvc.Spec) {
		errs = append(errs, field.Forbidden(p, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}
	newSize := pvc.Spec.Resources.Requests[corev1.ResourceStorage]
	oldSize := old.Spec.Resources.Requests[corev1.ResourceStorage]
	if newSize.Cmp(oldSize) < 0 {
		errs = append(errs, field.Forbidden(p.Child("resources", "requests", "storage"), "field can not be less than previous value"))
	}
	return errs
}
