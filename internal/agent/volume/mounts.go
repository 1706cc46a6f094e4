package volume

import (
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Unsupported names the first volume of pod the agent cannot provide,
// or "" if it can provide them all. It is pure, so the agent can keep
// such a pod pending without touching the disk.
func Unsupported(pod *corev1.Pod) (volume, kind string) {
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		switch {
		case v.EmptyDir != nil, v.HostPath != nil, v.ConfigMap != nil, v.Secret != nil, v.DownwardAPI != nil:
			continue
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				if s.ConfigMap == nil && s.Secret == nil && s.DownwardAPI == nil && s.ServiceAccountToken == nil {
					return v.Name, "projected clusterTrustBundle/podCertificate"
				}
			}
			continue
		}
		return v.Name, sourceName(v)
	}
	return "", ""
}

// readOnlySource says whether a volume is always mounted read-only (API
// data volumes are).
func readOnlySource(v *corev1.Volume) bool {
	return v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil || v.Projected != nil
}

// Mount is one container mount before subPaths are resolved on disk.
type Mount struct {
	runtime.Mount
	// SubPath is relative to the volume ("" for the whole volume).
	SubPath string
	// VolumePath is the volume's host path.
	VolumePath string
}

// Mounts turns container c's volumeMounts into mounts given the host
// path of each volume. subPathExpr is expanded with expand (the
// container's environment).
func Mounts(pod *corev1.Pod, c *corev1.Container, paths map[string]string, expand func(string) string) ([]Mount, error) {
	vols := make(map[string]*corev1.Volume, len(pod.Spec.Volumes))
	for i := range pod.Spec.Volumes {
		vols[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	out := make([]Mount, 0, len(c.VolumeMounts))
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		hostPath, ok2 := paths[vm.Name]
		if !ok || !ok2 {
			return nil, fmt.Errorf("volume %q of mount %s is not set up", vm.Name, vm.MountPath)
		}
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = expand(vm.SubPathExpr)
		}
		if sub != "" && (path.IsAbs(sub) || path.Clean(sub) == ".." || len(path.Clean(sub)) > 2 && path.Clean(sub)[:3] == "../") {
			return nil, fmt.Errorf("subPath %q of mount %s escapes its volume", sub, vm.MountPath)
		}
		m := Mount{Mount: runtime.Mount{
			ContainerPath: vm.MountPath,
			HostPath:      hostPath,
			ReadOnly:      vm.ReadOnly || readOnlySource(v),
			Propagation:   propagation(vm.MountPropagation),
		}, SubPath: sub, VolumePath: hostPath}
		if sub != "" {
			m.HostPath = path.Join(hostPath, sub)
		}
		out = append(out, m)
	}
	return out, nil
}

func propagation(p *corev1.MountPropagationMode) string {
	if p == nil {
		return ""
	}
	switch *p {
	case corev1.MountPropagationHostToContainer:
		return "HostToContainer"
	case corev1.MountPropagationBidirectional:
		return "Bidirectional"
	}
	return ""
}
