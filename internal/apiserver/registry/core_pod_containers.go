package registry

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// containerKind says which list a container comes from; some fields are
// allowed only in some lists.
type containerKind int

const (
	regularContainer containerKind = iota
	initContainer
)

// validateContainers checks one list of containers. names collects every
// container name of the pod, so names are unique across lists.
func validateContainers(ctrs []corev1.Container, kind containerKind, spec *corev1.PodSpec, vols map[string]*corev1.VolumeSource, names sets.Set[string], fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range ctrs {
		c := &ctrs[i]
		p := fldPath.Index(i)
		errs = append(errs, validateDNSLabel(c.Name, p.Child("name"))...)
		if names.Has(c.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		}
		names.Insert(c.Name)
		errs = append(errs, validateContainerCommon(c, spec, vols, p)...)
		errs = append(errs, validateContainerRestartPolicy(c, kind, p)...)
		errs = append(errs, validateContainerProbes(c, kind, spec, p)...)
	}
	return errs
}

// validateContainerCommon checks what every kind of container shares.
func validateContainerCommon(c *corev1.Container, spec *corev1.PodSpec, vols map[string]*corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	} else if c.Image != strings.TrimSpace(c.Image) {
		errs = append(errs, field.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	errs = append(errs, validatePullPolicy(c.ImagePullPolicy, p.Child("imagePullPolicy"))...)
	errs = append(errs, validateTerminationMessage(c, p)...)
	errs = append(errs, validateContainerPorts(c.Ports, spec.HostNetwork, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateEnvFrom(c.EnvFrom, p.Child("envFrom"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, vols, p.Child("volumeMounts"))...)
	errs = append(errs, validateVolumeDevices(c.VolumeDevices, vols, p.Child("volumeDevices"))...)
	errs = append(errs, validateContainerResources(&c.Resources, p.Child("resources"))...)
	errs = append(errs, validateContainerSecurityContext(c.SecurityContext, p.Child("securityContext"))...)
	errs = append(errs, validateResizePolicy(c.ResizePolicy, p.Child("resizePolicy"))...)
	return errs
}

// validateResizePolicy allows one policy per resource, for cpu and memory.
func validateResizePolicy(policies []corev1.ContainerResizePolicy, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[corev1.ResourceName]()
	for i, rp := range policies {
		p := fldPath.Index(i)
		switch rp.ResourceName {
		case corev1.ResourceCPU, corev1.ResourceMemory:
			if seen.Has(rp.ResourceName) {
				errs = append(errs, field.Duplicate(p.Child("resourceName"), rp.ResourceName))
			}
			seen.Insert(rp.ResourceName)
		default:
			errs = append(errs, field.NotSupported(p.Child("resourceName"), rp.ResourceName, []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}))
		}
		if rp.RestartPolicy != corev1.NotRequired && rp.RestartPolicy != corev1.RestartContainer {
			errs = append(errs, field.NotSupported(p.Child("restartPolicy"), rp.RestartPolicy, []corev1.ResourceResizeRestartPolicy{corev1.NotRequired, corev1.RestartContainer}))
		}
	}
	return errs
}

func validatePullPolicy(pp corev1.PullPolicy, fldPath *field.Path) field.ErrorList {
	return validateRequiredEnum(pp, []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}, fldPath)
}

func validateTerminationMessage(c *corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch c.TerminationMessagePolicy {
	case corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
	case "":
		errs = append(errs, field.Required(p.Child("terminationMessagePolicy"), "must be 'File' or 'FallbackToLogsOnError'"))
	default:
		errs = append(errs, field.NotSupported(p.Child("terminationMessagePolicy"), c.TerminationMessagePolicy,
			[]corev1.TerminationMessagePolicy{corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError}))
	}
	return errs
}

// validateContainerRestartPolicy allows a container restartPolicy only on
// init containers (sidecars), and only "Always".
func validateContainerRestartPolicy(c *corev1.Container, kind containerKind, p *field.Path) field.ErrorList {
	if c.RestartPolicy == nil {
		return nil
	}
	if kind != initContainer {
		return field.ErrorList{field.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers")}
	}
	if *c.RestartPolicy != corev1.ContainerRestartPolicyAlways {
		return field.ErrorList{field.NotSupported(p.Child("restartPolicy"), *c.RestartPolicy, []corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways})}
	}
	return nil
}

// isSidecar reports whether an init container keeps running (restartPolicy
// Always).
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

func validateProtocol(proto corev1.Protocol, fldPath *field.Path) field.ErrorList {
	return validateRequiredEnum(proto, []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}, fldPath)
}

// validatePortNumber requires a port in 1..65535.
func validatePortNumber(port int32, required bool, fldPath *field.Path) field.ErrorList {
	if port == 0 {
		if required {
			return field.ErrorList{field.Required(fldPath, "")}
		}
		return nil
	}
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(port)) {
		errs = append(errs, field.Invalid(fldPath, port, msg))
	}
	return errs
}

func validateContainerPorts(ports []corev1.ContainerPort, hostNetwork bool, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		p := fldPath.Index(i)
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), port.Name, msg))
			}
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		errs = append(errs, validatePortNumber(port.ContainerPort, true, p.Child("containerPort"))...)
		errs = append(errs, validatePortNumber(port.HostPort, false, p.Child("hostPort"))...)
		if hostNetwork && port.HostPort != port.ContainerPort {
			errs = append(errs, field.Invalid(p.Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
		}
		errs = append(errs, validateProtocol(port.Protocol, p.Child("protocol"))...)
		if port.HostIP != "" {
			errs = append(errs, validation.IsValidIP(p.Child("hostIP"), port.HostIP)...)
		}
	}
	return errs
}

// validateHostPortConflicts rejects two container ports claiming the same
// host IP, protocol and host port.
func validateHostPortConflicts(ctrs []corev1.Container, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, c := range ctrs {
		for j, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			key := fmt.Sprintf("%s/%s/%d", port.HostIP, port.Protocol, port.HostPort)
			if seen.Has(key) {
				errs = append(errs, field.Duplicate(fldPath.Index(i).Child("ports").Index(j).Child("hostPort"), key))
			}
			seen.Insert(key)
		}
	}
	return errs
}

// validateEphemeralContainers checks debug containers lightly: names unique
// with the others, image and policies set, no ports or probes.
func validateEphemeralContainers(ctrs []corev1.EphemeralContainer, vols map[string]*corev1.VolumeSource, names sets.Set[string], fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i := range ctrs {
		c := &ctrs[i].EphemeralContainerCommon
		p := fldPath.Index(i)
		errs = append(errs, validateDNSLabel(c.Name, p.Child("name"))...)
		if names.Has(c.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), c.Name))
		}
		names.Insert(c.Name)
		if c.Image == "" {
			errs = append(errs, field.Required(p.Child("image"), ""))
		}
		if len(c.Ports) > 0 {
			errs = append(errs, field.Forbidden(p.Child("ports"), "cannot be set for an Ephemeral Container"))
		}
		for _, probe := range []struct {
			name string
			set  bool
		}{{"livenessProbe", c.LivenessProbe != nil}, {"readinessProbe", c.ReadinessProbe != nil}, {"startupProbe", c.StartupProbe != nil}, {"lifecycle", c.Lifecycle != nil}} {
			if probe.set {
				errs = append(errs, field.Forbidden(p.Child(probe.name), "cannot be set for an Ephemeral Container"))
			}
		}
		errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
		errs = append(errs, validateVolumeMounts(c.VolumeMounts, vols, p.Child("volumeMounts"))...)
	}
	return errs
}
