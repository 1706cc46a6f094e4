package podsecurity

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// appArmorAnnotationPrefix starts the per-container AppArmor annotations.
const appArmorAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/"

// appArmorProfile forbids profiles other than the runtime default and
// localhost ones, in annotations and (from v1.30) fields.
func appArmorProfile(p pod) (string, string) {
	var bad []string
	for k, v := range p.meta.Annotations {
		if strings.HasPrefix(k, appArmorAnnotationPrefix) && v != "" && v != "runtime/default" && !strings.HasPrefix(v, "localhost/") {
			bad = append(bad, fmt.Sprintf("%s=%q", k, v))
		}
	}
	slices.Sort(bad)
	if p.v.atLeast(30) {
		unconfined := func(a *corev1.AppArmorProfile) bool {
			return a != nil && a.Type == corev1.AppArmorProfileTypeUnconfined
		}
		podBad := p.spec.SecurityContext != nil && unconfined(p.spec.SecurityContext.AppArmorProfile)
		var names []string
		visitContainers(p.spec, func(c *corev1.Container) {
			if c.SecurityContext != nil && unconfined(c.SecurityContext.AppArmorProfile) {
				names = append(names, c.Name)
			}
		})
		if podBad || len(names) > 0 {
			bad = append(bad, setters(podBad, names)+` must not set AppArmor profile type to "Unconfined"`)
		}
	}
	if len(bad) == 0 {
		return "", ""
	}
	return pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", len(bad)), strings.Join(bad, ", ")
}

// baselineCapabilities may be added at the baseline level.
func baselineCapabilities() set {
	return set{"AUDIT_WRITE": true, "CHOWN": true, "DAC_OVERRIDE": true, "FOWNER": true, "FSETID": true,
		"KILL": true, "MKNOD": true, "NET_BIND_SERVICE": true, "SETFCAP": true, "SETGID": true,
		"SETPCAP": true, "SETUID": true, "SYS_CHROOT": true}
}

func capabilitiesBaseline(p pod) (string, string) {
	allowed := baselineCapabilities()
	forbidden := set{}
	var names []string
	visitContainers(p.spec, func(c *corev1.Container) {
		if c.SecurityContext == nil || c.SecurityContext.Capabilities == nil {
			return
		}
		bad := false
		for _, cp := range c.SecurityContext.Capabilities.Add {
			if !allowed[string(cp)] {
				bad = true
				forbidden[string(cp)] = true
			}
		}
		if bad {
			names = append(names, c.Name)
		}
	})
	if len(names) == 0 {
		return "", ""
	}
	return "non-default capabilities", fmt.Sprintf("%s must not include %s in securityContext.capabilities.add",
		containersPhrase(names), joinQuote(forbidden.sorted()))
}

func hostNamespaces(p pod) (string, string) {
	var bad []string
	if p.spec.HostNetwork {
		bad = append(bad, "hostNetwork=true")
	}
	if p.spec.HostPID {
		bad = append(bad, "hostPID=true")
	}
	if p.spec.HostIPC {
		bad = append(bad, "hostIPC=true")
	}
	if len(bad) == 0 {
		return "", ""
	}
	return "host namespaces", strings.Join(bad, ", ")
}

func hostPathVolumes(p pod) (string, string) {
	var names []string
	for _, v := range p.spec.Volumes {
		if v.HostPath != nil {
			names = append(names, v.Name)
		}
	}
	if len(names) == 0 {
		return "", ""
	}
	return "hostPath volumes", pluralize("volume", "volumes", len(names)) + " " + joinQuote(names)
}

func hostPorts(p pod) (string, string) {
	var names []string
	ports := set{}
	visitContainers(p.spec, func(c *corev1.Container) {
		bad := false
		for _, port := range c.Ports {
			if port.HostPort != 0 {
				bad = true
				ports[strconv.Itoa(int(port.HostPort))] = true
			}
		}
		if bad {
			names = append(names, c.Name)
		}
	})
	if len(names) == 0 {
		return "", ""
	}
	return "hostPort", fmt.Sprintf("%s %s %s %s", containersPhrase(names), pluralize("uses", "use", len(names)),
		pluralize("hostPort", "hostPorts", len(ports)), strings.Join(ports.sorted(), ", "))
}

func hostProbesAndLifecycle(p pod) (string, string) {
	names, hosts := set{}, set{}
	add := func(c *corev1.Container, host string) {
		if host != "" {
			names[c.Name] = true
			hosts[host] = true
		}
	}
	handler := func(c *corev1.Container, http *corev1.HTTPGetAction, tcp *corev1.TCPSocketAction) {
		if http != nil {
			add(c, http.Host)
		}
		if tcp != nil {
			add(c, tcp.Host)
		}
	}
	visitContainers(p.spec, func(c *corev1.Container) {
		for _, pr := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
			if pr != nil {
				handler(c, pr.HTTPGet, pr.TCPSocket)
			}
		}
		if c.Lifecycle != nil {
			for _, h := range []*corev1.LifecycleHandler{c.Lifecycle.PostStart, c.Lifecycle.PreStop} {
				if h != nil {
					handler(c, h.HTTPGet, h.TCPSocket)
				}
			}
		}
	})
	if len(names) == 0 {
		return "", ""
	}
	return "probe or lifecycle host", fmt.Sprintf("%s %s %s %s", containersPhrase(names.sorted()),
		pluralize("uses", "use", len(names)),
		pluralize("probe or lifecycle host", "probe or lifecycle hosts", len(hosts)), joinQuote(hosts.sorted()))
}

func privileged(p pod) (string, string) {
	var names []string
	visitContainers(p.spec, func(c *corev1.Container) {
		if c.SecurityContext != nil && c.SecurityContext.Privileged != nil && *c.SecurityContext.Privileged {
			names = append(names, c.Name)
		}
	})
	if len(names) == 0 {
		return "", ""
	}
	return "privileged", containersPhrase(names) + " must not set securityContext.privileged=true"
}

func procMount(p pod) (string, string) {
	var names []string
	values := set{}
	visitContainers(p.spec, func(c *corev1.Container) {
		if c.SecurityContext == nil || c.SecurityContext.ProcMount == nil {
			return
		}
		if m := *c.SecurityContext.ProcMount; m != corev1.DefaultProcMount {
			names = append(names, c.Name)
			values[string(m)] = true
		}
	})
	if len(names) == 0 {
		return "", ""
	}
	return "procMount", fmt.Sprintf("%s must not set securityContext.procMount to %s",
		containersPhrase(names), joinQuote(values.sorted()))
}

// seLinuxTypes are the allowed SELinux types; v1.31 added
// container_engine_t.
func seLinuxTypes(v Version) set {
	s := set{"": true, "container_t": true, "container_init_t": true, "container_kvm_t": true}
	if v.atLeast(31) {
		s["container_engine_t"] = true
	}
	return s
}

func seLinuxOptions(p pod) (string, string) {
	allowed := seLinuxTypes(p.v)
	badTypes := set{}
	var setUser, setRole bool
	valid := func(o *corev1.SELinuxOptions) bool {
		ok := true
		if !allowed[o.Type] {
			badTypes[o.Type] = true
			ok = false
		}
		if o.User != "" {
			setUser, ok = true, false
		}
		if o.Role != "" {
			setRole, ok = true, false
		}
		return ok
	}
	podBad := p.spec.SecurityContext != nil && p.spec.SecurityContext.SELinuxOptions != nil &&
		!valid(p.spec.SecurityContext.SELinuxOptions)
	var names []string
	visitContainers(p.spec, func(c *corev1.Container) {
		if c.SecurityContext != nil && c.SecurityContext.SELinuxOptions != nil && !valid(c.SecurityContext.SELinuxOptions) {
			names = append(names, c.Name)
		}
	})
	if !podBad && len(names) == 0 {
		return "", ""
	}
	var data []string
	if len(badTypes) > 0 {
		data = append(data, pluralize("type", "types", len(badTypes))+" "+joinQuote(badTypes.sorted()))
	}
	if setUser {
		data = append(data, "user may not be set")
	}
	if setRole {
		data = append(data, "role may not be set")
	}
	return "seLinuxOptions", fmt.Sprintf("%s set forbidden securityContext.seLinuxOptions: %s",
		setters(podBad, names), strings.Join(data, "; "))
}

// seccompBaseline forbids the Unconfined seccomp profile.
func seccompBaseline(p pod) (string, string) {
	unconfined := func(s *corev1.SeccompProfile) bool {
		return s != nil && s.Type == corev1.SeccompProfileTypeUnconfined
	}
	podBad := p.spec.SecurityContext != nil && unconfined(p.spec.SecurityContext.SeccompProfile)
	var names []string
	visitContainers(p.spec, func(c *corev1.Container) {
		if c.SecurityContext != nil && unconfined(c.SecurityContext.SeccompProfile) {
			names = append(names, c.Name)
		}
	})
	if !podBad && len(names) == 0 {
		return "", ""
	}
	return "seccompProfile", setters(podBad, names) + ` must not set securityContext.seccompProfile.type to "Unconfined"`
}

// safeSysctls are the sysctls allowed at version v.
func safeSysctls(v Version) set {
	s := set{"kernel.shm_rmid_forced": true, "net.ipv4.ip_local_port_range": true, "net.ipv4.tcp_syncookies": true,
		"net.ipv4.ping_group_range": true, "net.ipv4.ip_unprivileged_port_start": true}
	if v.atLeast(27) {
		s["net.ipv4.ip_local_reserved_ports"] = true
	}
	if v.atLeast(29) {
		for _, n := range []string{"tcp_keepalive_time", "tcp_fin_timeout", "tcp_keepalive_intvl", "tcp_keepalive_probes"} {
			s["net.ipv4."+n] = true
		}
	}
	if v.atLeast(32) {
		s["net.ipv4.tcp_rmem"], s["net.ipv4.tcp_wmem"] = true, true
	}
	return s
}

func sysctls(p pod) (string, string) {
	if p.spec.SecurityContext == nil {
		return "", ""
	}
	allowed := safeSysctls(p.v)
	var bad []string
	for _, s := range p.spec.SecurityContext.Sysctls {
		if !allowed[s.Name] {
			bad = append(bad, s.Name)
		}
	}
	if len(bad) == 0 {
		return "", ""
	}
	return "forbidden sysctls", strings.Join(bad, ", ")
}

func windowsHostProcess(p pod) (string, string) {
	hostProcess := func(w *corev1.WindowsSecurityContextOptions) bool {
		return w != nil && w.HostProcess != nil && *w.HostProcess
	}
	podBad := p.spec.SecurityContext != nil && hostProcess(p.spec.SecurityContext.WindowsOptions)
	var names []string
	visitContainers(p.spec, func(c *corev1.Container) {
		if c.SecurityContext != nil && hostProcess(c.SecurityContext.WindowsOptions) {
			names = append(names, c.Name)
		}
	})
	if !podBad && len(names) == 0 {
		return "", ""
	}
	return "hostProcess", setters(podBad, names) + " must not set securityContext.windowsOptions.hostProcess=true"
}
