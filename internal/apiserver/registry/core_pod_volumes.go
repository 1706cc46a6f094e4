package registry

import (
	"path"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxVolumeFileMode is the largest file mode a projected file may have.
const maxVolumeFileMode int32 = 0o777

// setSources returns the json names of the non-nil pointer fields of a
// volume source struct (VolumeSource, PersistentVolumeSource,
// VolumeProjection): the sources actually given.
func setSources(src any) []string {
	v := reflect.Indirect(reflect.ValueOf(src))
	var names []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() == reflect.Pointer && !f.IsNil() {
			names = append(names, strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0])
		}
	}
	return names
}

// volumeSourceCount counts the sources set in a pod volume.
func volumeSourceCount(s *corev1.VolumeSource) int { return len(setSources(s)) }

// validateVolumes checks pod volumes and returns the names seen, with their
// sources, for the mount checks.
func validateVolumes(vols []corev1.Volume, fldPath *field.Path) (map[string]*corev1.VolumeSource, field.ErrorList) {
	var errs field.ErrorList
	byName := map[string]*corev1.VolumeSource{}
	for i := range vols {
		v := &vols[i]
		p := fldPath.Index(i)
		errs = append(errs, validateDNSLabel(v.Name, p.Child("name"))...)
		if _, dup := byName[v.Name]; dup && v.Name != "" {
			errs = append(errs, field.Duplicate(p.Child("name"), v.Name))
		}
		if v.Name != "" {
			byName[v.Name] = &v.VolumeSource
		}
		errs = append(errs, validateVolumeSource(&v.VolumeSource, p)...)
	}
	return byName, errs
}

// validateDNSLabel requires value to be a non-empty DNS-1123 label.
func validateDNSLabel(value string, fldPath *field.Path) field.ErrorList {
	if value == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(value) {
		errs = append(errs, field.Invalid(fldPath, value, msg))
	}
	return errs
}

// validateVolumeSource requires exactly one source and checks it.
func validateVolumeSource(s *corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	set := setSources(s)
	switch {
	case len(set) == 0:
		return field.ErrorList{field.Required(fldPath, "must specify a volume type")}
	case len(set) > 1:
		return field.ErrorList{field.Forbidden(fldPath.Child(set[1]), "may not specify more than 1 volume type")}
	}
	var errs field.ErrorList
	switch {
	case s.HostPath != nil:
		errs = append(errs, validateHostPath(s.HostPath, fldPath.Child("hostPath"))...)
	case s.EmptyDir != nil:
		p := fldPath.Child("emptyDir")
		switch s.EmptyDir.Medium {
		case corev1.StorageMediumDefault, corev1.StorageMediumMemory, corev1.StorageMediumHugePages:
		default:
			if !strings.HasPrefix(string(s.EmptyDir.Medium), string(corev1.StorageMediumHugePagesPrefix)) {
				errs = append(errs, field.NotSupported(p.Child("medium"), s.EmptyDir.Medium, []string{"", "Memory", "HugePages"}))
			}
		}
		if l := s.EmptyDir.SizeLimit; l != nil && l.Sign() < 0 {
			errs = append(errs, field.Invalid(p.Child("sizeLimit"), l.String(), "must be greater than or equal to 0"))
		}
	case s.Secret != nil:
		p := fldPath.Child("secret")
		if s.Secret.SecretName == "" {
			errs = append(errs, field.Required(p.Child("secretName"), ""))
		}
		errs = append(errs, validateFileMode(s.Secret.DefaultMode, p.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.Secret.Items, p.Child("items"))...)
	case s.ConfigMap != nil:
		p := fldPath.Child("configMap")
		if s.ConfigMap.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		}
		errs = append(errs, validateFileMode(s.ConfigMap.DefaultMode, p.Child("defaultMode"))...)
		errs = append(errs, validateKeyToPaths(s.ConfigMap.Items, p.Child("items"))...)
	case s.PersistentVolumeClaim != nil:
		if s.PersistentVolumeClaim.ClaimName == "" {
			errs = append(errs, field.Required(fldPath.Child("persistentVolumeClaim", "claimName"), ""))
		}
	case s.NFS != nil:
		errs = append(errs, validateNFS(s.NFS, fldPath.Child("nfs"))...)
	case s.DownwardAPI != nil:
		p := fldPath.Child("downwardAPI")
		errs = append(errs, validateFileMode(s.DownwardAPI.DefaultMode, p.Child("defaultMode"))...)
		errs = append(errs, validateDownwardAPIFiles(s.DownwardAPI.Items, p.Child("items"))...)
	case s.Projected != nil:
		errs = append(errs, validateProjected(s.Projected, fldPath.Child("projected"))...)
	case s.Ephemeral != nil:
		if s.Ephemeral.VolumeClaimTemplate == nil {
			errs = append(errs, field.Required(fldPath.Child("ephemeral", "volumeClaimTemplate"), ""))
		}
	case s.Image != nil:
		if strings.TrimSpace(s.Image.Reference) == "" {
			errs = append(errs, field.Required(fldPath.Child("image", "reference"), ""))
		}
	}
	return errs
}

func validateHostPath(h *corev1.HostPathVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h.Path == "" {
		errs = append(errs, field.Required(fldPath.Child("path"), ""))
	}
	if h.Type != nil {
		supported := sets.New(corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
			corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev)
		if !supported.Has(*h.Type) {
			errs = append(errs, field.NotSupported(fldPath.Child("type"), *h.Type, sets.List(supported)))
		}
	}
	return errs
}

func validateNFS(n *corev1.NFSVolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if n.Server == "" {
		errs = append(errs, field.Required(fldPath.Child("server"), ""))
	}
	if n.Path == "" {
		errs = append(errs, field.Required(fldPath.Child("path"), ""))
	} else if !path.IsAbs(n.Path) {
		errs = append(errs, field.Invalid(fldPath.Child("path"), n.Path, "must be an absolute path"))
	}
	return errs
}

// validateFileMode checks a file mode is within 0..0777.
func validateFileMode(mode *int32, fldPath *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > maxVolumeFileMode) {
		return field.ErrorList{field.Invalid(fldPath, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

func validateKeyToPaths(items []corev1.KeyToPath, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		p := fldPath.Index(i)
		if it.Key == "" {
			errs = append(errs, field.Required(p.Child("key"), ""))
		}
		errs = append(errs, validateRelativePath(it.Path, true, p.Child("path"))...)
		errs = append(errs, validateFileMode(it.Mode, p.Child("mode"))...)
	}
	return errs
}

// validateRelativePath requires a path that stays inside its volume: not
// absolute and without "..".
func validateRelativePath(value string, required bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if value == "" {
		if required {
			errs = append(errs, field.Required(fldPath, ""))
		}
		return errs
	}
	if path.IsAbs(value) {
		errs = append(errs, field.Invalid(fldPath, value, "must be a relative path"))
	}
	for _, part := range strings.Split(value, "/") {
		if part == ".." {
			errs = append(errs, field.Invalid(fldPath, value, "must not contain '..'"))
			break
		}
	}
	return errs
}

func validateDownwardAPIFiles(items []corev1.DownwardAPIVolumeFile, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, it := range items {
		p := fldPath.Index(i)
		errs = append(errs, validateRelativePath(it.Path, true, p.Child("path"))...)
		errs = append(errs, validateFileMode(it.Mode, p.Child("mode"))...)
		switch {
		case it.FieldRef != nil && it.ResourceFieldRef != nil:
			errs = append(errs, field.Invalid(p, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case it.FieldRef != nil:
			errs = append(errs, validateFieldRef(it.FieldRef, p.Child("fieldRef"))...)
		case it.ResourceFieldRef != nil:
			errs = append(errs, validateResourceFieldRef(it.ResourceFieldRef, p.Child("resourceFieldRef"))...)
		default:
			errs = append(errs, field.Required(p, "one of fieldRef and resourceFieldRef is required"))
		}
	}
	return errs
}

func validateProjected(pr *corev1.ProjectedVolumeSource, fldPath *field.Path) field.ErrorList {
	errs := validateFileMode(pr.DefaultMode, fldPath.Child("defaultMode"))
	for i := range pr.Sources {
		src := &pr.Sources[i]
		p := fldPath.Child("sources").Index(i)
		set := setSources(src)
		if len(set) != 1 {
			errs = append(errs, field.Forbidden(p, "may not specify more than 1 volume type per source"))
			continue
		}
		switch {
		case src.Secret != nil:
			errs = append(errs, validateKeyToPaths(src.Secret.Items, p.Child("secret", "items"))...)
		case src.ConfigMap != nil:
			errs = append(errs, validateKeyToPaths(src.ConfigMap.Items, p.Child("configMap", "items"))...)
		case src.DownwardAPI != nil:
			errs = append(errs, validateDownwardAPIFiles(src.DownwardAPI.Items, p.Child("downwardAPI", "items"))...)
		case src.ServiceAccountToken != nil:
			t := src.ServiceAccountToken
			tp := p.Child("serviceAccountToken")
			errs = append(errs, validateRelativePath(t.Path, true, tp.Child("path"))...)
			if t.ExpirationSeconds != nil && *t.ExpirationSeconds < 600 {
				errs = append(errs, field.Invalid(tp.Child("expirationSeconds"), *t.ExpirationSeconds, "may not specify a duration less than 10 minutes"))
			}
		}
	}
	return errs
}

// validateVolumeMounts checks a container's mounts against the pod volumes.
func validateVolumeMounts(mounts []corev1.VolumeMount, vols map[string]*corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	paths := sets.New[string]()
	for i, m := range mounts {
		p := fldPath.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(p.Child("name"), ""))
		} else if _, ok := vols[m.Name]; !ok {
			errs = append(errs, field.NotFound(p.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(p.Child("mountPath"), ""))
		} else if paths.Has(m.MountPath) {
			errs = append(errs, field.Invalid(p.Child("mountPath"), m.MountPath, "must be unique"))
		}
		paths.Insert(m.MountPath)
		errs = append(errs, validateRelativePath(m.SubPath, false, p.Child("subPath"))...)
		if m.SubPath != "" && m.SubPathExpr != "" {
			errs = append(errs, field.Invalid(p.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
		}
		if m.MountPropagation != nil {
			supported := sets.New(corev1.MountPropagationNone, corev1.MountPropagationHostToContainer, corev1.MountPropagationBidirectional)
			if !supported.Has(*m.MountPropagation) {
				errs = append(errs, field.NotSupported(p.Child("mountPropagation"), *m.MountPropagation, sets.List(supported)))
			}
		}
	}
	return errs
}

// validateVolumeDevices checks block devices refer to PVC-backed volumes.
func validateVolumeDevices(devs []corev1.VolumeDevice, vols map[string]*corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, d := range devs {
		p := fldPath.Index(i)
		src, ok := vols[d.Name]
		switch {
		case d.Name == "":
			errs = append(errs, field.Required(p.Child("name"), ""))
		case !ok:
			errs = append(errs, field.NotFound(p.Child("name"), d.Name))
		case src.PersistentVolumeClaim == nil && src.Ephemeral == nil:
			errs = append(errs, field.Invalid(p.Child("name"), d.Name, "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode"))
		}
		if d.DevicePath == "" {
			errs = append(errs, field.Required(p.Child("devicePath"), ""))
		}
	}
	return errs
}
