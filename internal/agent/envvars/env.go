package envvars

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// ConfigError is a container configuration that cannot be resolved (a
// missing ConfigMap, Secret or key); the agent reports it as the waiting
// reason CreateContainerConfigError and retries.
type ConfigError struct {
	Message string
}

func (e *ConfigError) Error() string { return e.Message }

// Inputs are the objects a container's environment refers to. A name
// present with a nil value was looked up and not found; a name absent
// was not fetched (Needs lists what to fetch).
type Inputs struct {
	ConfigMaps map[string]*corev1.ConfigMap
	Secrets    map[string]*corev1.Secret
	// ServiceEnv are the Service link variables (see ServiceEnv); they
	// have the lowest priority.
	ServiceEnv []runtime.KeyValue
	Info       PodInfo
}

// Needs lists the ConfigMaps and Secrets (names in the pod's namespace)
// that container c refers to in env and envFrom.
func Needs(c *corev1.Container) (configMaps, secrets []string) {
	add := func(list []string, name string) []string {
		for _, n := range list {
			if n == name {
				return list
			}
		}
		return append(list, name)
	}
	for _, f := range c.EnvFrom {
		if f.ConfigMapRef != nil {
			configMaps = add(configMaps, f.ConfigMapRef.Name)
		}
		if f.SecretRef != nil {
			secrets = add(secrets, f.SecretRef.Name)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			continue
		}
		if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
			configMaps = add(configMaps, r.Name)
		}
		if r := e.ValueFrom.SecretKeyRef; r != nil {
			secrets = add(secrets, r.Name)
		}
	}
	return configMaps, secrets
}

// env is an ordered set of variables: a later set of the same name
// replaces the value in place.
type env struct {
	list  []runtime.KeyValue
	index map[string]int
}

func (e *env) set(k, v string) {
	if i, ok := e.index[k]; ok {
		e.list[i].Value = v
		return
	}
	if e.index == nil {
		e.index = map[string]int{}
	}
	e.index[k] = len(e.list)
	e.list = append(e.list, runtime.KeyValue{Key: k, Value: v})
}

func (e *env) get(k string) (string, bool) {
	i, ok := e.index[k]
	if !ok {
		return "", false
	}
	return e.list[i].Value, true
}

// Result is a container's resolved environment and its expanded command
// and args.
type Result struct {
	Env     []runtime.KeyValue
	Command []string
	Args    []string
	// Skipped are envFrom keys dropped for not being valid variable
	// names (the agent reports them in an event).
	Skipped []string
}

// Resolve computes container c's environment: envFrom sources in order,
// then env entries in order (each may refer to earlier variables and
// the Service link variables with $(NAME)), then the Service link
// variables not otherwise set. Command and args are expanded against the
// result.
func Resolve(pod *corev1.Pod, c *corev1.Container, in Inputs) (Result, error) {
	var (
		out Result
		e   env
	)
	for _, f := range c.EnvFrom {
		skipped, err := fromSource(&e, pod, f, in)
		if err != nil {
			return Result{}, err
		}
		out.Skipped = append(out.Skipped, skipped...)
	}
	svc := env{}
	for _, kv := range in.ServiceEnv {
		svc.set(kv.Key, kv.Value)
	}
	lookup := func(name string) (string, bool) {
		if v, ok := e.get(name); ok {
			return v, true
		}
		return svc.get(name)
	}
	for i := range c.Env {
		v := &c.Env[i]
		if v.ValueFrom == nil {
			e.set(v.Name, Expand(v.Value, lookup))
			continue
		}
		val, ok, err := valueFrom(pod, c, v.ValueFrom, in)
		if err != nil {
			return Result{}, err
		}
		if ok {
			e.set(v.Name, val)
		}
	}
	for _, kv := range svc.list {
		if _, ok := e.get(kv.Key); !ok {
			e.set(kv.Key, kv.Value)
		}
	}
	out.Env = e.list
	out.Command = ExpandAll(c.Command, e.get)
	out.Args = ExpandAll(c.Args, e.get)
	return out, nil
}

// fromSource adds one envFrom source.
func fromSource(e *env, pod *corev1.Pod, f corev1.EnvFromSource, in Inputs) ([]string, error) {
	var (
		data     map[string]string
		optional bool
	)
	switch {
	case f.ConfigMapRef != nil:
		optional = f.ConfigMapRef.Optional != nil && *f.ConfigMapRef.Optional
		cm := in.ConfigMaps[f.ConfigMapRef.Name]
		if cm == nil {
			if optional {
				return nil, nil
			}
			return nil, &ConfigError{Message: fmt.Sprintf("configmap %q not found", f.ConfigMapRef.Name)}
		}
		data = cm.Data
	case f.SecretRef != nil:
		optional = f.SecretRef.Optional != nil && *f.SecretRef.Optional
		s := in.Secrets[f.SecretRef.Name]
		if s == nil {
			if optional {
				return nil, nil
			}
			return nil, &ConfigError{Message: fmt.Sprintf("secret %q not found", f.SecretRef.Name)}
		}
		data = make(map[string]string, len(s.Data))
		for k, v := range s.Data {
			data[k] = string(v)
		}
	default:
		return nil, nil
	}
	var skipped []string
	for _, k := range sortedKeys(data) {
		name := f.Prefix + k
		if !validEnvName(name) {
			skipped = append(skipped, name)
			continue
		}
		e.set(name, data[k])
	}
	return skipped, nil
}

// valueFrom resolves one env entry's source; ok is false for an optional
// source that is missing (the variable is then not set).
func valueFrom(pod *corev1.Pod, c *corev1.Container, src *corev1.EnvVarSource, in Inputs) (string, bool, error) {
	switch {
	case src.FieldRef != nil:
		v, err := FieldValue(pod, src.FieldRef.FieldPath, in.Info)
		return v, err == nil, wrapConfig(err)
	case src.ResourceFieldRef != nil:
		v, err := ResourceValue(c, src.ResourceFieldRef, in.Info)
		return v, err == nil, wrapConfig(err)
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		optional := r.Optional != nil && *r.Optional
		cm := in.ConfigMaps[r.Name]
		if cm == nil {
			return "", false, missing(optional, fmt.Sprintf("configmap %q not found", r.Name))
		}
		if v, ok := cm.Data[r.Key]; ok {
			return v, true, nil
		}
		if v, ok := cm.BinaryData[r.Key]; ok {
			return string(v), true, nil
		}
		return "", false, missing(optional, fmt.Sprintf("couldn't find key %s in ConfigMap %s/%s", r.Key, pod.Namespace, r.Name))
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		optional := r.Optional != nil && *r.Optional
		s := in.Secrets[r.Name]
		if s == nil {
			return "", false, missing(optional, fmt.Sprintf("secret %q not found", r.Name))
		}
		if v, ok := s.Data[r.Key]; ok {
			return string(v), true, nil
		}
		return "", false, missing(optional, fmt.Sprintf("couldn't find key %s in Secret %s/%s", r.Key, pod.Namespace, r.Name))
	}
	return "", false, nil
}

func missing(optional bool, msg string) error {
	if optional {
		return nil
	}
	return &ConfigError{Message: msg}
}

func wrapConfig(err error) error {
	if err == nil {
		return nil
	}
	return &ConfigError{Message: err.Error()}
}

// validEnvName accepts what the API accepts for env names today: any
// printable ASCII except '='.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 32 || s[i] > 126 || s[i] == '=' {
			return false
		}
	}
	return true
}
