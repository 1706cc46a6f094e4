package agent

import (
	"fmt"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// CPU scheduling constants, as the kubelet converts them.
const (
	minShares     = 2
	sharesPerCPU  = 1024
	quotaPeriodUS = 100000
	minQuotaUS    = 1000
)

// containerResources converts requests and limits to cgroup settings.
// memCapacity (the node's allocatable memory) scales the OOM score of
// burstable containers.
func containerResources(pod *corev1.Pod, c *corev1.Container, memCapacity int64) *runtime.Resources {
	req, hasReq := c.Resources.Requests[corev1.ResourceCPU]
	lim, hasLim := c.Resources.Limits[corev1.ResourceCPU]
	if !hasReq && hasLim {
		req = lim
	}
	r := &runtime.Resources{CPUShares: max(req.MilliValue()*sharesPerCPU/1000, minShares)}
	if hasLim {
		r.CPUPeriod = quotaPeriodUS
		r.CPUQuota = max(lim.MilliValue()*quotaPeriodUS/1000, minQuotaUS)
	}
	if m, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		r.MemoryLimitBytes = m.Value()
	}
	r.OOMScoreAdj = oomScoreAdj(pod, c, memCapacity)
	return r
}

// oomScoreAdj follows the QoS classes: guaranteed pods are killed last,
// best-effort first, burstable in between by their memory request.
func oomScoreAdj(pod *corev1.Pod, c *corev1.Container, memCapacity int64) int64 {
	switch qosClass(pod) {
	case corev1.PodQOSGuaranteed:
		return -997
	case corev1.PodQOSBestEffort:
		return 1000
	}
	req := c.Resources.Requests.Memory().Value()
	if memCapacity <= 0 {
		return 999
	}
	adj := 1000 - 1000*req/memCapacity
	return min(max(adj, 2), 999)
}

// qosClass is the pod's QoS class: status.qosClass when set, else
// computed from requests and limits of cpu and memory.
func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	if pod.Status.QOSClass != "" {
		return pod.Status.QOSClass
	}
	set, guaranteed := false, true
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, hasReq := c.Resources.Requests[name]
				lim, hasLim := c.Resources.Limits[name]
				set = set || hasReq || hasLim
				if !hasLim || (hasReq && req.Cmp(lim) != 0) {
					guaranteed = false
				}
			}
		}
	}
	switch {
	case !set:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// containerSecurity merges the pod's and the container's security
// contexts (the container's fields win); nil when neither sets anything.
func containerSecurity(pod *corev1.Pod, c *corev1.Container) *runtime.SecurityContext {
	ps, cs := pod.Spec.SecurityContext, c.SecurityContext
	if ps == nil && cs == nil {
		return nil
	}
	out := podSecurity(pod)
	if out == nil {
		out = &runtime.SecurityContext{}
	}
	if cs == nil {
		return out
	}
	if cs.RunAsUser != nil {
		out.RunAsUser = cs.RunAsUser
	}
	if cs.RunAsGroup != nil {
		out.RunAsGroup = cs.RunAsGroup
	}
	out.ReadOnlyRootFilesystem = cs.ReadOnlyRootFilesystem != nil && *cs.ReadOnlyRootFilesystem
	out.Privileged = cs.Privileged != nil && *cs.Privileged
	if caps := cs.Capabilities; caps != nil {
		for _, a := range caps.Add {
			out.AddCapabilities = append(out.AddCapabilities, string(a))
		}
		for _, d := range caps.Drop {
			out.DropCapabilities = append(out.DropCapabilities, string(d))
		}
	}
	out.NoNewPrivs = !out.Privileged && cs.AllowPrivilegeEscalation != nil && !*cs.AllowPrivilegeEscalation
	return out
}

// podSecurity is the pod-level part: user, group and supplemental groups
// (fsGroup joins them, as upstream does).
func podSecurity(pod *corev1.Pod) *runtime.SecurityContext {
	ps := pod.Spec.SecurityContext
	if ps == nil {
		return nil
	}
	out := &runtime.SecurityContext{RunAsUser: ps.RunAsUser, RunAsGroup: ps.RunAsGroup}
	out.SupplementalGroups = append(out.SupplementalGroups, ps.SupplementalGroups...)
	if ps.FSGroup != nil {
		out.SupplementalGroups = append(out.SupplementalGroups, *ps.FSGroup)
	}
	return out
}

// sysctls are the pod's namespaced sysctls.
func sysctls(pod *corev1.Pod) map[string]string {
	if pod.Spec.SecurityContext == nil || len(pod.Spec.SecurityContext.Sysctls) == 0 {
		return nil
	}
	out := make(map[string]string, len(pod.Spec.SecurityContext.Sysctls))
	for _, s := range pod.Spec.SecurityContext.Sysctls {
		out[s.Name] = s.Value
	}
	return out
}

// portMappings are the pod's hostPorts (none with host networking, where
// the container port is the host port).
func portMappings(pod *corev1.Pod) []runtime.PortMapping {
	if pod.Spec.HostNetwork {
		return nil
	}
	var out []runtime.PortMapping
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			for _, p := range c.Ports {
				if p.HostPort == 0 {
					continue
				}
				proto := string(p.Protocol)
				if proto == "" {
					proto = string(corev1.ProtocolTCP)
				}
				out = append(out, runtime.PortMapping{Protocol: proto, ContainerPort: p.ContainerPort, HostPort: p.HostPort, HostIP: p.HostIP})
			}
		}
	}
	return out
}

// podLogDir is the pod's log directory under the agent's data dir, in
// upstream's layout: <dir>/logs/<namespace>_<name>_<uid>.
func podLogDir(dataDir string, pod *corev1.Pod) string {
	return filepath.Join(dataDir, "logs", fmt.Sprintf("%s_%s_%s", pod.Namespace, pod.Name, pod.UID))
}

// containerLogPath is relative to the pod's log directory.
func containerLogPath(name string, attempt uint32) string {
	return fmt.Sprintf("%s/%d.log", name, attempt)
}

// memoryOf is a quantity's value, 0 when absent.
func memoryOf(l corev1.ResourceList) int64 {
	if q, ok := l[corev1.ResourceMemory]; ok {
		return q.Value()
	}
	return 0
}

// DNS limits of a resolv.conf.
const (
	maxDNSServers  = 3
	maxDNSSearches = 32
)

// DNSSettings are the node's DNS facts the pod DNS config is built from.
type DNSSettings struct {
	// ClusterDNS are the cluster DNS servers; ClusterDomain the cluster's
	// domain (cluster.local).
	ClusterDNS    []string
	ClusterDomain string
	// Host is the node's resolv.conf; nil if unknown (the runtime's
	// default is then used for the Default policy).
	Host *runtime.DNSConfig
}

// podDNS computes a pod's resolv.conf. The warning is set when the
// policy cannot be honoured (ClusterFirst without cluster DNS).
func podDNS(pod *corev1.Pod, s DNSSettings) (cfg *runtime.DNSConfig, warning string) {
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && pod.Spec.HostNetwork {
		policy = corev1.DNSDefault
	}
	if policy == corev1.DNSClusterFirstWithHostNet {
		policy = corev1.DNSClusterFirst
	}
	if policy == corev1.DNSClusterFirst && len(s.ClusterDNS) == 0 {
		policy = corev1.DNSDefault
		warning = "kubelet does not have ClusterDNS IP configured and cannot create Pod using \"ClusterFirst\" policy. Falling back to \"Default\" policy."
	}
	switch policy {
	case corev1.DNSNone:
		cfg = &runtime.DNSConfig{}
	case corev1.DNSDefault:
		if s.Host == nil && pod.Spec.DNSConfig == nil {
			return nil, warning
		}
		cfg = copyDNS(s.Host)
	default:
		domain := s.ClusterDomain
		if domain == "" {
			domain = "cluster.local"
		}
		cfg = &runtime.DNSConfig{
			Servers:  append([]string(nil), s.ClusterDNS...),
			Searches: []string{pod.Namespace + ".svc." + domain, "svc." + domain, domain},
			Options:  []string{"ndots:5"},
		}
		if s.Host != nil {
			cfg.Searches = appendNew(cfg.Searches, s.Host.Searches...)
		}
	}
	mergeDNSConfig(cfg, pod.Spec.DNSConfig)
	if len(cfg.Servers) > maxDNSServers {
		cfg.Servers = cfg.Servers[:maxDNSServers]
	}
	if len(cfg.Searches) > maxDNSSearches {
		cfg.Searches = cfg.Searches[:maxDNSSearches]
	}
	return cfg, warning
}

func copyDNS(d *runtime.DNSConfig) *runtime.DNSConfig {
	if d == nil {
		return &runtime.DNSConfig{}
	}
	return &runtime.DNSConfig{
		Servers:  append([]string(nil), d.Servers...),
		Searches: append([]string(nil), d.Searches...),
		Options:  append([]string(nil), d.Options...),
	}
}

// mergeDNSConfig adds the pod's dnsConfig: servers and searches are
// appended without duplicates, options replace those of the same name.
func mergeDNSConfig(cfg *runtime.DNSConfig, pc *corev1.PodDNSConfig) {
	if pc == nil {
		return
	}
	cfg.Servers = appendNew(cfg.Servers, pc.Nameservers...)
	cfg.Searches = appendNew(cfg.Searches, pc.Searches...)
	for _, o := range pc.Options {
		opt := o.Name
		if o.Value != nil {
			opt += ":" + *o.Value
		}
		replaced := false
		for i, have := range cfg.Options {
			if name, _, _ := strings.Cut(have, ":"); name == o.Name {
				cfg.Options[i], replaced = opt, true
			}
		}
		if !replaced {
			cfg.Options = append(cfg.Options, opt)
		}
	}
}

func appendNew(list []string, add ...string) []string {
	for _, a := range add {
		dup := false
		for _, l := range list {
			dup = dup || l == a
		}
		if !dup {
			list = append(list, a)
		}
	}
	return list
}

// ParseResolvConf reads the nameserver, search and options lines of a
// resolv.conf.
func ParseResolvConf(data string) *runtime.DNSConfig {
	cfg := &runtime.DNSConfig{}
	for _, line := range strings.Split(data, "\n") {
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "nameserver":
			cfg.Servers = append(cfg.Servers, f[1])
		case "search", "domain":
			cfg.Searches = append([]string(nil), f[1:]...)
		case "options":
			cfg.Options = append(cfg.Options, f[1:]...)
		}
	}
	return cfg
}
