package registry

import (
	"reflect"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// StorageClassResource describes storage.k8s.io/v1 StorageClasses.
func StorageClassResource() Resource {
	return Resource{
		GroupVersionResource: storagev1.SchemeGroupVersion.WithResource("storageclasses"),
		Kind:                 "StorageClass", ShortNames: []string{"sc"},
		New:     func() runtime.Object { return &storagev1.StorageClass{} },
		NewList: func() runtime.Object { return &storagev1.StorageClassList{} },
	}
}

// storageClassStrategy defaults the reclaim policy to Delete and the
// binding mode to Immediate; the provisioner, parameters, reclaim policy
// and binding mode cannot change, as upstream.
func storageClassStrategy() Strategy {
	return Typed[*storagev1.StorageClass]{
		DefaultFunc: func(sc *storagev1.StorageClass) {
			if sc.ReclaimPolicy == nil {
				sc.ReclaimPolicy = ptr.To(corev1.PersistentVolumeReclaimDelete)
			}
			if sc.VolumeBindingMode == nil {
				sc.VolumeBindingMode = ptr.To(storagev1.VolumeBindingImmediate)
			}
		},
		ValidateFunc: validateStorageClass,
		ValidateUpdateFunc: func(sc, old *storagev1.StorageClass) field.ErrorList {
			errs := validateStorageClass(sc)
			if !reflect.DeepEqual(sc.Parameters, old.Parameters) {
				errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
			}
			if sc.Provisioner != old.Provisioner {
				errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
			}
			if !reflect.DeepEqual(sc.ReclaimPolicy, old.ReclaimPolicy) {
				errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
			}
			if !reflect.DeepEqual(sc.VolumeBindingMode, old.VolumeBindingMode) {
				errs = append(errs, field.Forbidden(field.NewPath("volumeBindingMode"), "updates to volumeBindingMode are forbidden."))
			}
			return errs
		},
	}
}

func validateStorageClass(sc *storagev1.StorageClass) field.ErrorList {
	var errs field.ErrorList
	if sc.Provisioner == "" {
		errs = append(errs, field.Required(field.NewPath("provisioner"), ""))
	}
	if p := sc.ReclaimPolicy; p != nil && *p != corev1.PersistentVolumeReclaimDelete && *p != corev1.PersistentVolumeReclaimRetain {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), *p,
			[]string{string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRetain)}))
	}
	if m := sc.VolumeBindingMode; m != nil && *m != storagev1.VolumeBindingImmediate && *m != storagev1.VolumeBindingWaitForFirstConsumer {
		errs = append(errs, field.NotSupported(field.NewPath("volumeBindingMode"), *m,
			[]string{string(storagev1.VolumeBindingImmediate), string(storagev1.VolumeBindingWaitForFirstConsumer)}))
	}
	return errs
}
