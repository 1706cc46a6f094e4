package volume

import (
	"errors"
	"fmt"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/agent/envvars"
)

// File is one file of an API-backed volume.
type File struct {
	Data []byte
	Mode int32
}

// Files maps paths relative to the volume to their content.
type Files map[string]File

// DefaultMode is the mode of volume files when the spec sets none.
const DefaultMode int32 = 0o644

// ErrUnsupported marks a volume type the agent cannot provide.
var ErrUnsupported = errors.New("unsupported volume type")

// Token names one serviceAccountToken projection: the volume and the path
// of the token in it.
type Token struct {
	Volume, Path      string
	Audience          string
	ExpirationSeconds int64
}

// Sources are the objects API-backed volumes are made of. A name present
// with a nil value was not found.
type Sources struct {
	ConfigMaps map[string]*corev1.ConfigMap
	Secrets    map[string]*corev1.Secret
	// Tokens by Token.Volume + "/" + Token.Path.
	Tokens map[string]string
	Info   envvars.PodInfo
}

// Needs lists the ConfigMaps, Secrets and tokens the pod's volumes are
// made of.
func Needs(pod *corev1.Pod) (configMaps, secrets []string, tokens []Token) {
	seenCM, seenS := map[string]bool{}, map[string]bool{}
	addCM := func(n string) {
		if !seenCM[n] {
			seenCM[n] = true
			configMaps = append(configMaps, n)
		}
	}
	addS := func(n string) {
		if !seenS[n] {
			seenS[n] = true
			secrets = append(secrets, n)
		}
	}
	for _, v := range pod.Spec.Volumes {
		switch {
		case v.ConfigMap != nil:
			addCM(v.ConfigMap.Name)
		case v.Secret != nil:
			addS(v.Secret.SecretName)
		case v.Projected != nil:
			for _, s := range v.Projected.Sources {
				switch {
				case s.ConfigMap != nil:
					addCM(s.ConfigMap.Name)
				case s.Secret != nil:
					addS(s.Secret.Name)
				case s.ServiceAccountToken != nil:
					t := s.ServiceAccountToken
					exp := int64(3600)
					if t.ExpirationSeconds != nil {
						exp = *t.ExpirationSeconds
					}
					tokens = append(tokens, Token{Volume: v.Name, Path: t.Path, Audience: t.Audience, ExpirationSeconds: exp})
				}
			}
		}
	}
	return configMaps, secrets, tokens
}

// Contents computes the files of an API-backed volume. It returns nil
// files and no error for other volume types.
func Contents(pod *corev1.Pod, v *corev1.Volume, src Sources) (Files, error) {
	files := Files{}
	var err error
	switch {
	case v.ConfigMap != nil:
		err = addConfigMap(files, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, mode(v.ConfigMap.DefaultMode), src)
	case v.Secret != nil:
		err = addSecret(files, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, mode(v.Secret.DefaultMode), src)
	case v.DownwardAPI != nil:
		err = addDownward(files, pod, v.DownwardAPI.Items, mode(v.DownwardAPI.DefaultMode), src.Info)
	case v.Projected != nil:
		err = addProjected(files, pod, v, src)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return files, nil
}

func mode(m *int32) int32 {
	if m == nil {
		return DefaultMode
	}
	return *m
}

func itemMode(m *int32, def int32) int32 {
	if m == nil {
		return def
	}
	return *m
}

func addProjected(files Files, pod *corev1.Pod, v *corev1.Volume, src Sources) error {
	def := mode(v.Projected.DefaultMode)
	for _, s := range v.Projected.Sources {
		var err error
		switch {
		case s.ConfigMap != nil:
			err = addConfigMap(files, s.ConfigMap.Name, s.ConfigMap.Items, s.ConfigMap.Optional, def, src)
		case s.Secret != nil:
			err = addSecret(files, s.Secret.Name, s.Secret.Items, s.Secret.Optional, def, src)
		case s.DownwardAPI != nil:
			err = addDownward(files, pod, s.DownwardAPI.Items, def, src.Info)
		case s.ServiceAccountToken != nil:
			tok, ok := src.Tokens[v.Name+"/"+s.ServiceAccountToken.Path]
			if !ok {
				return fmt.Errorf("no token for %s", s.ServiceAccountToken.Path)
			}
			err = put(files, s.ServiceAccountToken.Path, []byte(tok), def)
		default:
			return fmt.Errorf("projected source of volume %q: %w", v.Name, ErrUnsupported)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func addConfigMap(files Files, name string, items []corev1.KeyToPath, optional *bool, def int32, src Sources) error {
	cm := src.ConfigMaps[name]
	if cm == nil {
		if optional != nil && *optional {
			return nil
		}
		return fmt.Errorf("configmap %q not found", name)
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return addKeys(files, "configmap", name, data, items, optional, def)
}

func addSecret(files Files, name string, items []corev1.KeyToPath, optional *bool, def int32, src Sources) error {
	s := src.Secrets[name]
	if s == nil {
		if optional != nil && *optional {
			return nil
		}
		return fmt.Errorf("secret %q not found", name)
	}
	return addKeys(files, "secret", name, s.Data, items, optional, def)
}

// addKeys writes every key (no items) or the listed items.
func addKeys(files Files, kind, name string, data map[string][]byte, items []corev1.KeyToPath, optional *bool, def int32) error {
	if len(items) == 0 {
		for k, v := range data {
			if err := put(files, k, v, def); err != nil {
				return err
			}
		}
		return nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return fmt.Errorf("%s %q references non-existent key: %s", kind, name, it.Key)
		}
		if err := put(files, it.Path, v, itemMode(it.Mode, def)); err != nil {
			return err
		}
	}
	return nil
}

func addDownward(files Files, pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, def int32, info envvars.PodInfo) error {
	for _, it := range items {
		var (
			val string
			err error
		)
		switch {
		case it.FieldRef != nil:
			val, err = envvars.FieldValue(pod, it.FieldRef.FieldPath, info)
		case it.ResourceFieldRef != nil:
			c := findContainer(pod, it.ResourceFieldRef.ContainerName)
			if c == nil {
				return fmt.Errorf("downwardAPI %s: container %q not found", it.Path, it.ResourceFieldRef.ContainerName)
			}
			val, err = envvars.ResourceValue(c, it.ResourceFieldRef, info)
		}
		if err != nil {
			return fmt.Errorf("downwardAPI %s: %w", it.Path, err)
		}
		if err := put(files, it.Path, []byte(val), itemMode(it.Mode, def)); err != nil {
			return err
		}
	}
	return nil
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// put adds one file after checking that its path stays in the volume.
func put(files Files, p string, data []byte, m int32) error {
	clean := path.Clean(p)
	if p == "" || path.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") || strings.HasPrefix(path.Base(clean), "..") {
		return fmt.Errorf("invalid file path %q", p)
	}
	files[clean] = File{Data: data, Mode: m}
	return nil
}
