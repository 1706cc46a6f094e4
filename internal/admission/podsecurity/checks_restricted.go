package podsecurity

import (
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

func allowPrivilegeEscalation(p pod) (string, string) {
	if p.isWindows() {
		return "", ""
	}
	var names []string
	visitContainers(p.spec, func(c *corev1.Container) {
		if c.SecurityContext == nil || c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
			names = append(names, c.Name)
		}
	})
	if len(names) == 0 {
		return "", ""
	}
	return "allowPrivilegeEscalation != false", containersPhrase(names) + " must set securityContext.allowPrivilegeEscalation=false"
}

// capabilitiesRestricted requires dropping ALL and adding at most
// NET_BIND_SERVICE.
func capabilitiesRestricted(p pod) (string, string) {
	if p.isWindows() {
		return "", ""
	}
	var missingDrop, adding []string
	forbidden := set{}
	visitContainers(p.spec, func(c *corev1.Container) {
		if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
			missingDrop = append(missingDrop, c.Name)
			return
		}
		caps := c.SecurityContext.Capabilities
		dropped := false
		for _, d := range caps.Drop {
			dropped = dropped || d == "ALL"
		}
		if !dropped {
			missingDrop = append(missingDrop, c.Name)
		}
		bad := false
		for _, a := range caps.Add {
			if a != "NET_BIND_SERVICE" {
				bad = true
				forbidden[string(a)] = true
			}
		}
		if bad {
			adding = append(adding, c.Name)
		}
	})
	var details []string
	if len(missingDrop) > 0 {
		details = append(details, containersPhrase(missingDrop)+` must set securityContext.capabilities.drop=["ALL"]`)
	}
	if len(adding) > 0 {
		details = append(details, fmt.Sprintf("%s must not include %s in securityContext.capabilities.add",
			containersPhrase(adding), joinQuote(forbidden.sorted())))
	}
	if len(details) == 0 {
		return "", ""
	}
	return "unrestricted capabilities", strings.Join(details, "; ")
}

// restrictedVolumeTypes are the volume sources the restricted level
// allows, by their JSON field names.
func restrictedVolumeTypes() set {
	return set{"configMap": true, "csi": true, "downwardAPI": true, "emptyDir": true, "ephemeral": true,
		"persistentVolumeClaim": true, "projected": true, "secret": true}
}

// volumeType names the source a volume sets by its JSON field name, or
// "unknown".
func volumeType(v *corev1.Volume) string {
	rv := reflect.ValueOf(v.VolumeSource)
	rt := rv.Type()
	for i := range rt.NumField() {
		if f := rv.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			return name
		}
	}
	return "unknown"
}

func restrictedVolumes(p pod) (string, string) {
	allowed := restrictedVolumeTypes()
	var names []string
	types := set{}
	for i := range p.spec.Volumes {
		if t := volumeType(&p.spec.Volumes[i]); !allowed[t] {
			names = append(names, p.spec.Volumes[i].Name)
			types[t] = true
		}
	}
	if len(names) == 0 {
		return "", ""
	}
	return "restricted volume types", fmt.Sprintf("%s %s %s %s %s",
		pluralize("volume", "volumes", len(names)), joinQuote(names), pluralize("uses", "use", len(names)),
		pluralize("restricted volume type", "restricted volume types", len(types)), joinQuote(types.sorted()))
}

func runAsNonRoot(p pod) (string, string) {
	podBad, podTrue := false, false
	if sc := p.spec.SecurityContext; sc != nil && sc.RunAsNonRoot != nil {
		podBad, podTrue = !*sc.RunAsNonRoot, *sc.RunAsNonRoot
	}
	var explicit, implicit []string
	visitContainers(p.spec, func(c *corev1.Container) {
		switch {
		case c.SecurityContext != nil && c.SecurityContext.RunAsNonRoot != nil:
			if !*c.SecurityContext.RunAsNonRoot {
				explicit = append(explicit, c.Name)
			}
		case !podTrue:
			implicit = append(implicit, c.Name)
		}
	})
	if podBad || len(explicit) > 0 {
		return "runAsNonRoot != true", setters(podBad, explicit) + " must not set securityContext.runAsNonRoot=false"
	}
	if len(implicit) > 0 {
		return "runAsNonRoot != true", "pod or " + containersPhrase(implicit) + " must set securityContext.runAsNonRoot=true"
	}
	return "", ""
}

func runAsUser(p pod) (string, string) {
	root := func(u *int64) bool { return u != nil && *u == 0 }
	podBad := p.spec.SecurityContext != nil && root(p.spec.SecurityContext.RunAsUser)
	var names []string
	visitContainers(p.spec, func(c *corev1.Container) {
		if c.SecurityContext != nil && root(c.SecurityContext.RunAsUser) {
			names = append(names, c.Name)
		}
	})
	if !podBad && len(names) == 0 {
		return "", ""
	}
	return "runAsUser=0", setters(podBad, names) + " must not set runAsUser=0"
}

// seccompRestricted requires RuntimeDefault or Localhost, set on the pod
// or on every container.
func seccompRestricted(p pod) (string, string) {
	if p.isWindows() {
		return "", ""
	}
	ok := func(t corev1.SeccompProfileType) bool {
		return t == corev1.SeccompProfileTypeRuntimeDefault || t == corev1.SeccompProfileTypeLocalhost
	}
	badValues := set{}
	podBad, podSet := false, false
	if sc := p.spec.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		podSet = true
		if !ok(sc.SeccompProfile.Type) {
			podBad = true
			badValues[string(sc.SeccompProfile.Type)] = true
		}
	}
	var explicit, implicit []string
	visitContainers(p.spec, func(c *corev1.Container) {
		switch {
		case c.SecurityContext != nil && c.SecurityContext.SeccompProfile != nil:
			if t := c.SecurityContext.SeccompProfile.Type; !ok(t) {
				explicit = append(explicit, c.Name)
				badValues[string(t)] = true
			}
		case !podSet || podBad:
			implicit = append(implicit, c.Name)
		}
	})
	if podBad || len(explicit) > 0 {
		return "seccompProfile", fmt.Sprintf("%s must not set securityContext.seccompProfile.type to %s",
			setters(podBad, explicit), joinQuote(badValues.sorted()))
	}
	if len(implicit) > 0 {
		return "seccompProfile", "pod or " + containersPhrase(implicit) +
			` must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`
	}
	return "", ""
}
