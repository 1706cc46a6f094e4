package cri

import (
	"maps"
	"strings"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// This file converts between Skiff's runtime types and CRI's. The
// functions are pure.

func sandboxConfigToCRI(c *runtime.PodSandboxConfig) *runtimeapi.PodSandboxConfig {
	if c == nil {
		return nil
	}
	out := &runtimeapi.PodSandboxConfig{
		Metadata: &runtimeapi.PodSandboxMetadata{
			Name: c.Metadata.Name, Namespace: c.Metadata.Namespace, Uid: c.Metadata.UID, Attempt: c.Metadata.Attempt,
		},
		Hostname:     c.Hostname,
		LogDirectory: c.LogDirectory,
		DnsConfig:    dnsToCRI(c.DNS),
		PortMappings: portMappingsToCRI(c.PortMappings),
		Labels:       maps.Clone(c.Labels),
		Annotations:  maps.Clone(c.Annotations),
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			CgroupParent:    c.CgroupParent,
			Sysctls:         maps.Clone(c.Sysctls),
			SecurityContext: sandboxSecurityToCRI(c.Security, c.HostNetwork),
		},
	}
	return out
}

// namespaceOptions are the namespaces of a pod's sandbox and containers:
// the pod's network (or the node's), one IPC namespace per pod and one PID
// namespace per container.
func namespaceOptions(hostNetwork bool) *runtimeapi.NamespaceOption {
	ns := &runtimeapi.NamespaceOption{
		Network: runtimeapi.NamespaceMode_POD,
		Pid:     runtimeapi.NamespaceMode_CONTAINER,
		Ipc:     runtimeapi.NamespaceMode_POD,
	}
	if hostNetwork {
		ns.Network = runtimeapi.NamespaceMode_NODE
	}
	return ns
}

func sandboxSecurityToCRI(s *runtime.SecurityContext, hostNetwork bool) *runtimeapi.LinuxSandboxSecurityContext {
	out := &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: namespaceOptions(hostNetwork)}
	if s == nil {
		return out
	}
	out.RunAsUser = int64Value(s.RunAsUser)
	out.RunAsGroup = int64Value(s.RunAsGroup)
	out.SupplementalGroups = s.SupplementalGroups
	out.ReadonlyRootfs = s.ReadOnlyRootFilesystem
	out.Privileged = s.Privileged
	return out
}

func containerSecurityToCRI(s *runtime.SecurityContext, hostNetwork bool) *runtimeapi.LinuxContainerSecurityContext {
	out := &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: namespaceOptions(hostNetwork)}
	if s == nil {
		return out
	}
	out.RunAsUser = int64Value(s.RunAsUser)
	out.RunAsGroup = int64Value(s.RunAsGroup)
	out.SupplementalGroups = s.SupplementalGroups
	out.ReadonlyRootfs = s.ReadOnlyRootFilesystem
	out.Privileged = s.Privileged
	out.NoNewPrivs = s.NoNewPrivs
	if len(s.AddCapabilities) > 0 || len(s.DropCapabilities) > 0 {
		out.Capabilities = &runtimeapi.Capability{
			AddCapabilities:  capabilities(s.AddCapabilities),
			DropCapabilities: capabilities(s.DropCapabilities),
		}
	}
	return out
}

// capabilities spells Kubernetes capability names ("NET_ADMIN", "ALL") as
// containerd expects them ("CAP_NET_ADMIN", "ALL").
func capabilities(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	out := make([]string, len(names))
	for i, n := range names {
		n = strings.ToUpper(n)
		if n != "ALL" && !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		out[i] = n
	}
	return out
}

func int64Value(v *int64) *runtimeapi.Int64Value {
	if v == nil {
		return nil
	}
	return &runtimeapi.Int64Value{Value: *v}
}

func dnsToCRI(d *runtime.DNSConfig) *runtimeapi.DNSConfig {
	if d == nil {
		return nil
	}
	return &runtimeapi.DNSConfig{Servers: d.Servers, Searches: d.Searches, Options: d.Options}
}

func portMappingsToCRI(pms []runtime.PortMapping) []*runtimeapi.PortMapping {
	if len(pms) == 0 {
		return nil
	}
	out := make([]*runtimeapi.PortMapping, len(pms))
	for i, pm := range pms {
		out[i] = &runtimeapi.PortMapping{
			Protocol:      protocolToCRI(pm.Protocol),
			ContainerPort: pm.ContainerPort,
			HostPort:      pm.HostPort,
			HostIp:        pm.HostIP,
		}
	}
	return out
}

func protocolToCRI(p string) runtimeapi.Protocol {
	switch strings.ToUpper(p) {
	case "UDP":
		return runtimeapi.Protocol_UDP
	case "SCTP":
		return runtimeapi.Protocol_SCTP
	default:
		return runtimeapi.Protocol_TCP
	}
}

func containerConfigToCRI(c *runtime.ContainerConfig, sandbox *runtime.PodSandboxConfig) *runtimeapi.ContainerConfig {
	hostNetwork := sandbox != nil && sandbox.HostNetwork
	out := &runtimeapi.ContainerConfig{
		Metadata:    &runtimeapi.ContainerMetadata{Name: c.Metadata.Name, Attempt: c.Metadata.Attempt},
		Image:       &runtimeapi.ImageSpec{Image: c.Image},
		Command:     c.Command,
		Args:        c.Args,
		WorkingDir:  c.WorkingDir,
		Labels:      maps.Clone(c.Labels),
		Annotations: maps.Clone(c.Annotations),
		Mounts:      mountsToCRI(c.Mounts),
		LogPath:     c.LogPath,
		Stdin:       c.Stdin,
		Tty:         c.TTY,
		Linux: &runtimeapi.LinuxContainerConfig{
			Resources:       resourcesToCRI(c.Resources),
			SecurityContext: containerSecurityToCRI(c.Security, hostNetwork),
		},
	}
	for _, kv := range c.Env {
		out.Envs = append(out.Envs, &runtimeapi.KeyValue{Key: kv.Key, Value: []byte(kv.Value)})
	}
	return out
}

func mountsToCRI(ms []runtime.Mount) []*runtimeapi.Mount {
	if len(ms) == 0 {
		return nil
	}
	out := make([]*runtimeapi.Mount, len(ms))
	for i, m := range ms {
		out[i] = &runtimeapi.Mount{
			ContainerPath: m.ContainerPath,
			HostPath:      m.HostPath,
			Readonly:      m.ReadOnly,
			Propagation:   propagationToCRI(m.Propagation),
		}
	}
	return out
}

func propagationToCRI(p string) runtimeapi.MountPropagation {
	switch p {
	case "HostToContainer":
		return runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
	case "Bidirectional":
		return runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL
	default:
		return runtimeapi.MountPropagation_PROPAGATION_PRIVATE
	}
}

func resourcesToCRI(r *runtime.Resources) *runtimeapi.LinuxContainerResources {
	if r == nil {
		return nil
	}
	return &runtimeapi.LinuxContainerResources{
		CpuPeriod:          r.CPUPeriod,
		CpuQuota:           r.CPUQuota,
		CpuShares:          r.CPUShares,
		MemoryLimitInBytes: r.MemoryLimitBytes,
		OomScoreAdj:        r.OOMScoreAdj,
	}
}

// fromNanos converts CRI's nanoseconds since the epoch; 0 is the zero time.
func fromNanos(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func sandboxMetadataFromCRI(m *runtimeapi.PodSandboxMetadata) runtime.PodSandboxMetadata {
	return runtime.PodSandboxMetadata{
		Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUid(), Attempt: m.GetAttempt(),
	}
}

func sandboxStateFromCRI(s runtimeapi.PodSandboxState) runtime.SandboxState {
	if s == runtimeapi.PodSandboxState_SANDBOX_READY {
		return runtime.SandboxReady
	}
	return runtime.SandboxNotReady
}

func sandboxFromCRI(s *runtimeapi.PodSandbox) *runtime.PodSandbox {
	return &runtime.PodSandbox{
		ID:          s.GetId(),
		Metadata:    sandboxMetadataFromCRI(s.GetMetadata()),
		State:       sandboxStateFromCRI(s.GetState()),
		CreatedAt:   fromNanos(s.GetCreatedAt()),
		Labels:      orEmpty(s.GetLabels()),
		Annotations: orEmpty(s.GetAnnotations()),
	}
}

func sandboxStatusFromCRI(s *runtimeapi.PodSandboxStatus) *runtime.PodSandboxStatus {
	return &runtime.PodSandboxStatus{
		PodSandbox: runtime.PodSandbox{
			ID:          s.GetId(),
			Metadata:    sandboxMetadataFromCRI(s.GetMetadata()),
			State:       sandboxStateFromCRI(s.GetState()),
			CreatedAt:   fromNanos(s.GetCreatedAt()),
			Labels:      orEmpty(s.GetLabels()),
			Annotations: orEmpty(s.GetAnnotations()),
		},
		IP: s.GetNetwork().GetIp(),
	}
}

func containerStateFromCRI(s runtimeapi.ContainerState) runtime.ContainerState {
	switch s {
	case runtimeapi.ContainerState_CONTAINER_CREATED:
		return runtime.ContainerCreated
	case runtimeapi.ContainerState_CONTAINER_RUNNING:
		return runtime.ContainerRunning
	case runtimeapi.ContainerState_CONTAINER_EXITED:
		return runtime.ContainerExited
	default:
		return runtime.ContainerUnknown
	}
}

func containerFromCRI(c *runtimeapi.Container) *runtime.Container {
	return &runtime.Container{
		ID:           c.GetId(),
		PodSandboxID: c.GetPodSandboxId(),
		Metadata:     runtime.ContainerMetadata{Name: c.GetMetadata().GetName(), Attempt: c.GetMetadata().GetAttempt()},
		Image:        c.GetImage().GetImage(),
		ImageRef:     c.GetImageRef(),
		State:        containerStateFromCRI(c.GetState()),
		CreatedAt:    fromNanos(c.GetCreatedAt()),
		Labels:       orEmpty(c.GetLabels()),
		Annotations:  orEmpty(c.GetAnnotations()),
	}
}

// containerStatusFromCRI converts a status; sandboxID is not part of
// CRI's status, so the caller supplies it (from the container's labels
// or a listing).
func containerStatusFromCRI(s *runtimeapi.ContainerStatus, sandboxID string) *runtime.ContainerStatus {
	return &runtime.ContainerStatus{
		Container: runtime.Container{
			ID:           s.GetId(),
			PodSandboxID: sandboxID,
			Metadata:     runtime.ContainerMetadata{Name: s.GetMetadata().GetName(), Attempt: s.GetMetadata().GetAttempt()},
			Image:        s.GetImage().GetImage(),
			ImageRef:     s.GetImageRef(),
			State:        containerStateFromCRI(s.GetState()),
			CreatedAt:    fromNanos(s.GetCreatedAt()),
			Labels:       orEmpty(s.GetLabels()),
			Annotations:  orEmpty(s.GetAnnotations()),
		},
		StartedAt:  fromNanos(s.GetStartedAt()),
		FinishedAt: fromNanos(s.GetFinishedAt()),
		ExitCode:   s.GetExitCode(),
		Reason:     s.GetReason(),
		Message:    s.GetMessage(),
	}
}

func imageFromCRI(i *runtimeapi.Image) *runtime.Image {
	if i == nil {
		return nil
	}
	return &runtime.Image{ID: i.GetId(), Tags: i.GetRepoTags(), Size: i.GetSize()}
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}
