package tables

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// betaStorageClassAnnotation is the pre-storageClassName way of naming a
// volume's class; it wins over the field when present.
const betaStorageClassAnnotation = "volume.beta.kubernetes.io/storage-class"

func addStorage(r registry) {
	pvSpec, pvStatus := corev1.PersistentVolumeSpec{}.SwaggerDoc(), corev1.PersistentVolumeStatus{}.SwaggerDoc()
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Capacity", "string", pvSpec["capacity"]),
		column("Access Modes", "string", pvSpec["accessModes"]),
		column("Reclaim Policy", "string", pvSpec["persistentVolumeReclaimPolicy"]),
		column("Status", "string", pvStatus["phase"]),
		column("Claim", "string", pvSpec["claimRef"]),
		column("StorageClass", "string", "StorageClass of the pv"),
		column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
		column("Reason", "string", pvStatus["reason"]),
		ageColumn(),
		wide(column("VolumeMode", "string", pvSpec["volumeMode"])),
	}, pvCells)

	pvcSpec, pvcStatus := corev1.PersistentVolumeClaimSpec{}.SwaggerDoc(), corev1.PersistentVolumeClaimStatus{}.SwaggerDoc()
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", "string", pvcStatus["phase"]),
		column("Volume", "string", pvcSpec["volumeName"]),
		column("Capacity", "string", pvcStatus["capacity"]),
		column("Access Modes", "string", pvcStatus["accessModes"]),
		column("StorageClass", "string", "StorageClass of the pvc"),
		column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
		ageColumn(),
		wide(column("VolumeMode", "string", pvcSpec["volumeMode"])),
	}, pvcCells)

	sc := storagev1.StorageClass{}.SwaggerDoc()
	addCells(r, []metav1.TableColumnDefinition{
		nameColumn(),
		column("Provisioner", "string", sc["provisioner"]),
		column("ReclaimPolicy", "string", sc["reclaimPolicy"]),
		column("VolumeBindingMode", "string", sc["volumeBindingMode"]),
		column("AllowVolumeExpansion", "string", sc["allowVolumeExpansion"]),
		ageColumn(),
	}, storageClassCells)
}

// defaultClassAnnotations mark the default StorageClass (the beta one is
// still honoured).
var defaultClassAnnotations = []string{"storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"}

func storageClassCells(c *storagev1.StorageClass, now time.Time) []any {
	name := c.Name
	for _, a := range defaultClassAnnotations {
		if c.Annotations[a] == "true" {
			name += " (default)"
			break
		}
	}
	reclaim, binding, expand := string(corev1.PersistentVolumeReclaimDelete), string(storagev1.VolumeBindingImmediate), false
	if c.ReclaimPolicy != nil {
		reclaim = string(*c.ReclaimPolicy)
	}
	if c.VolumeBindingMode != nil {
		binding = string(*c.VolumeBindingMode)
	}
	if c.AllowVolumeExpansion != nil {
		expand = *c.AllowVolumeExpansion
	}
	return []any{name, c.Provisioner, reclaim, binding, fmt.Sprint(expand), age(now, c.CreationTimestamp)}
}

func pvCells(pv *corev1.PersistentVolume, now time.Time) []any {
	claim := ""
	if ref := pv.Spec.ClaimRef; ref != nil {
		claim = ref.Namespace + "/" + ref.Name
	}
	phase := string(pv.Status.Phase)
	if pv.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	class := pv.Spec.StorageClassName
	if v, ok := pv.Annotations[betaStorageClassAnnotation]; ok {
		class = v
	}
	capacity := pv.Spec.Capacity[corev1.ResourceStorage]
	return []any{pv.Name, capacity.String(), accessModes(pv.Spec.AccessModes),
		string(pv.Spec.PersistentVolumeReclaimPolicy), phase, claim, class,
		stringPtr(pv.Spec.VolumeAttributesClassName), pv.Status.Reason,
		age(now, pv.CreationTimestamp), volumeMode(pv.Spec.VolumeMode)}
}

// pvcCells shows capacity and access modes only once the claim is bound
// to a volume.
func pvcCells(pvc *corev1.PersistentVolumeClaim, now time.Time) []any {
	phase := string(pvc.Status.Phase)
	if pvc.DeletionTimestamp != nil {
		phase = "Terminating"
	}
	capacity, modes := "", ""
	if pvc.Spec.VolumeName != "" {
		q := pvc.Status.Capacity[corev1.ResourceStorage]
		capacity, modes = q.String(), accessModes(pvc.Status.AccessModes)
	}
	class := ""
	if v, ok := pvc.Annotations[betaStorageClassAnnotation]; ok {
		class = v
	} else if pvc.Spec.StorageClassName != nil {
		class = *pvc.Spec.StorageClassName
	}
	return []any{pvc.Name, phase, pvc.Spec.VolumeName, capacity, modes, class,
		stringPtr(pvc.Spec.VolumeAttributesClassName), age(now, pvc.CreationTimestamp),
		volumeMode(pvc.Spec.VolumeMode)}
}

// accessModes abbreviates modes in a fixed order: RWO,ROX,RWX,RWOP.
func accessModes(modes []corev1.PersistentVolumeAccessMode) string {
	order := []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	}
	var out []string
	for _, o := range order {
		if slices.Contains(modes, o.mode) {
			out = append(out, o.short)
		}
	}
	return strings.Join(out, ",")
}

func volumeMode(m *corev1.PersistentVolumeMode) string {
	if m == nil {
		return "<unset>"
	}
	return string(*m)
}

func stringPtr(s *string) string {
	if s == nil {
		return "<unset>"
	}
	return *s
}
