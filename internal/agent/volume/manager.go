package volume

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Plugin directory names, as upstream names them.
const (
	PluginEmptyDir    = "kubernetes.io~empty-dir"
	PluginConfigMap   = "kubernetes.io~configmap"
	PluginSecret      = "kubernetes.io~secret"
	PluginDownwardAPI = "kubernetes.io~downward-api"
	PluginProjected   = "kubernetes.io~projected"
)

// Manager lays out pod volumes under Root (<data dir>/pods).
type Manager struct {
	Root string
}

// PodDir is the directory of one pod.
func (m Manager) PodDir(uid types.UID) string { return filepath.Join(m.Root, string(uid)) }

// Dir is where volume name of plugin lives for pod uid.
func (m Manager) Dir(uid types.UID, plugin, name string) string {
	return filepath.Join(m.PodDir(uid), "volumes", plugin, name)
}

// Setup prepares every volume of pod and returns each volume's host
// path by name. It is idempotent: API-backed volumes whose content did
// not change are left alone. A volume that fails is named in the error.
func (m Manager) Setup(pod *corev1.Pod, src Sources, now time.Time) (map[string]string, error) {
	paths := make(map[string]string, len(pod.Spec.Volumes))
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		p, err := m.setupOne(pod, v, src, now)
		if err != nil {
			return nil, &SetupError{Volume: v.Name, Err: err}
		}
		paths[v.Name] = p
	}
	return paths, nil
}

// SetupError is a volume that could not be set up.
type SetupError struct {
	Volume string
	Err    error
}

func (e *SetupError) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.Volume, e.Err)
}

func (e *SetupError) Unwrap() error { return e.Err }

func (m Manager) setupOne(pod *corev1.Pod, v *corev1.Volume, src Sources, now time.Time) (string, error) {
	var plugin string
	switch {
	case v.EmptyDir != nil:
		dir := m.Dir(pod.UID, PluginEmptyDir, v.Name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return "", err
		}
		return dir, os.Chmod(dir, 0o777)
	case v.HostPath != nil:
		return v.HostPath.Path, checkHostPath(v.HostPath.Path, v.HostPath.Type)
	case v.ConfigMap != nil:
		plugin = PluginConfigMap
	case v.Secret != nil:
		plugin = PluginSecret
	case v.DownwardAPI != nil:
		plugin = PluginDownwardAPI
	case v.Projected != nil:
		plugin = PluginProjected
	default:
		return "", fmt.Errorf("%w (%s)", ErrUnsupported, sourceName(v))
	}
	files, err := Contents(pod, v, src)
	if err != nil {
		return "", err
	}
	dir := m.Dir(pod.UID, plugin, v.Name)
	if _, err := WriteAtomic(dir, files, now); err != nil {
		return "", err
	}
	return dir, nil
}

// SubPath makes sure a volumeMount's subPath exists in a writable
// volume (upstream creates it as a directory) and returns its host path.
func SubPath(volumePath, subPath string) (string, error) {
	p := filepath.Join(volumePath, filepath.FromSlash(subPath))
	rel, err := filepath.Rel(volumePath, p)
	if err != nil || rel == ".." || filepath.IsAbs(subPath) || len(rel) >= 3 && rel[:3] == "../" {
		return "", fmt.Errorf("subPath %q escapes its volume", subPath)
	}
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return "", fmt.Errorf("creating subPath %q: %w", subPath, err)
		}
	}
	return p, nil
}

// Cleanup removes a pod's directory and everything in it (hostPath
// volumes live elsewhere and are kept).
func (m Manager) Cleanup(uid types.UID) error {
	if uid == "" {
		return nil
	}
	if err := os.RemoveAll(m.PodDir(uid)); err != nil {
		return fmt.Errorf("removing pod directory: %w", err)
	}
	return nil
}

// Pods lists the UIDs that have a directory under Root.
func (m Manager) Pods() ([]types.UID, error) {
	entries, err := os.ReadDir(m.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing pod directories: %w", err)
	}
	out := make([]types.UID, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, types.UID(e.Name()))
		}
	}
	return out, nil
}

// sourceName names a volume's source for messages.
func sourceName(v *corev1.Volume) string {
	switch {
	case v.PersistentVolumeClaim != nil:
		return "persistentVolumeClaim"
	case v.NFS != nil:
		return "nfs"
	case v.Ephemeral != nil:
		return "ephemeral"
	case v.CSI != nil:
		return "csi"
	case v.ISCSI != nil:
		return "iscsi"
	case v.Image != nil:
		return "image"
	}
	return "unknown"
}
