package cri

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

func ptr[T any](v T) *T { return &v }

func TestSandboxConfigToCRI(t *testing.T) {
	podNS := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	nodeNS := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	tests := []struct {
		name string
		in   *runtime.PodSandboxConfig
		want *runtimeapi.PodSandboxConfig
	}{
		{
			name: "minimal",
			in:   &runtime.PodSandboxConfig{Metadata: runtime.PodSandboxMetadata{Name: "p", Namespace: "ns", UID: "u", Attempt: 1}},
			want: &runtimeapi.PodSandboxConfig{
				Metadata: &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u", Attempt: 1},
				Linux:    &runtimeapi.LinuxPodSandboxConfig{SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{NamespaceOptions: podNS}},
			},
		},
		{
			name: "full",
			in: &runtime.PodSandboxConfig{
				Metadata:     runtime.PodSandboxMetadata{Name: "p", Namespace: "ns", UID: "u"},
				Hostname:     "h",
				HostNetwork:  true,
				LogDirectory: "/var/log/pods/ns_p_u",
				DNS:          &runtime.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"ns.svc.cluster.local"}, Options: []string{"ndots:5"}},
				PortMappings: []runtime.PortMapping{
					{Protocol: "TCP", ContainerPort: 80, HostPort: 8080, HostIP: "127.0.0.1"},
					{Protocol: "UDP", ContainerPort: 53, HostPort: 5353},
					{Protocol: "SCTP", ContainerPort: 9},
					{ContainerPort: 1},
				},
				CgroupParent: "/kubepods/podu",
				Sysctls:      map[string]string{"net.ipv4.ip_forward": "1"},
				Security:     &runtime.SecurityContext{RunAsUser: ptr(int64(1000)), RunAsGroup: ptr(int64(2000)), SupplementalGroups: []int64{3000}, ReadOnlyRootFilesystem: true, Privileged: true},
				Labels:       map[string]string{"l": "1"},
				Annotations:  map[string]string{"a": "2"},
			},
			want: &runtimeapi.PodSandboxConfig{
				Metadata:     &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u"},
				Hostname:     "h",
				LogDirectory: "/var/log/pods/ns_p_u",
				DnsConfig:    &runtimeapi.DNSConfig{Servers: []string{"10.96.0.10"}, Searches: []string{"ns.svc.cluster.local"}, Options: []string{"ndots:5"}},
				PortMappings: []*runtimeapi.PortMapping{
					{Protocol: runtimeapi.Protocol_TCP, ContainerPort: 80, HostPort: 8080, HostIp: "127.0.0.1"},
					{Protocol: runtimeapi.Protocol_UDP, ContainerPort: 53, HostPort: 5353},
					{Protocol: runtimeapi.Protocol_SCTP, ContainerPort: 9},
					{Protocol: runtimeapi.Protocol_TCP, ContainerPort: 1},
				},
				Labels:      map[string]string{"l": "1"},
				Annotations: map[string]string{"a": "2"},
				Linux: &runtimeapi.LinuxPodSandboxConfig{
					CgroupParent: "/kubepods/podu",
					Sysctls:      map[string]string{"net.ipv4.ip_forward": "1"},
					SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
						NamespaceOptions:   nodeNS,
						RunAsUser:          &runtimeapi.Int64Value{Value: 1000},
						RunAsGroup:         &runtimeapi.Int64Value{Value: 2000},
						SupplementalGroups: []int64{3000},
						ReadonlyRootfs:     true,
						Privileged:         true,
					},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, sandboxConfigToCRI(tt.in), protocmp.Transform()); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestContainerConfigToCRI(t *testing.T) {
	podNS := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_POD, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	nodeNS := &runtimeapi.NamespaceOption{Network: runtimeapi.NamespaceMode_NODE, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD}
	tests := []struct {
		name    string
		in      *runtime.ContainerConfig
		sandbox *runtime.PodSandboxConfig
		want    *runtimeapi.ContainerConfig
	}{
		{
			name: "minimal",
			in:   &runtime.ContainerConfig{Metadata: runtime.ContainerMetadata{Name: "c"}, Image: "busybox"},
			want: &runtimeapi.ContainerConfig{
				Metadata: &runtimeapi.ContainerMetadata{Name: "c"},
				Image:    &runtimeapi.ImageSpec{Image: "busybox"},
				Linux:    &runtimeapi.LinuxContainerConfig{SecurityContext: &runtimeapi.LinuxContainerSecurityContext{NamespaceOptions: podNS}},
			},
		},
		{
			name:    "full, host network",
			sandbox: &runtime.PodSandboxConfig{HostNetwork: true},
			in: &runtime.ContainerConfig{
				Metadata:    runtime.ContainerMetadata{Name: "c", Attempt: 3},
				Image:       "registry.skiff.local/skiff-test:1",
				Command:     []string{"/testserver"},
				Args:        []string{"-port", "80"},
				Env:         []runtime.KeyValue{{Key: "A", Value: "1"}, {Key: "B", Value: ""}},
				WorkingDir:  "/work",
				Labels:      map[string]string{"l": "1"},
				Annotations: map[string]string{"a": "2"},
				Mounts: []runtime.Mount{
					{ContainerPath: "/data", HostPath: "/var/lib/skiff/pods/u/volumes/data", ReadOnly: true},
					{ContainerPath: "/h2c", HostPath: "/h", Propagation: "HostToContainer"},
					{ContainerPath: "/bi", HostPath: "/b", Propagation: "Bidirectional"},
				},
				LogPath:   "c/3.log",
				Resources: &runtime.Resources{CPUPeriod: 100000, CPUQuota: 50000, CPUShares: 512, MemoryLimitBytes: 1 << 26, OOMScoreAdj: 1000},
				Security: &runtime.SecurityContext{
					RunAsUser: ptr(int64(0)), ReadOnlyRootFilesystem: true, Privileged: false, NoNewPrivs: true,
					AddCapabilities: []string{"NET_ADMIN", "cap_sys_time"}, DropCapabilities: []string{"ALL"},
				},
				Stdin: true,
				TTY:   true,
			},
			want: &runtimeapi.ContainerConfig{
				Metadata:    &runtimeapi.ContainerMetadata{Name: "c", Attempt: 3},
				Image:       &runtimeapi.ImageSpec{Image: "registry.skiff.local/skiff-test:1"},
				Command:     []string{"/testserver"},
				Args:        []string{"-port", "80"},
				Envs:        []*runtimeapi.KeyValue{{Key: "A", Value: []byte("1")}, {Key: "B", Value: []byte("")}},
				WorkingDir:  "/work",
				Labels:      map[string]string{"l": "1"},
				Annotations: map[string]string{"a": "2"},
				Mounts: []*runtimeapi.Mount{
					{ContainerPath: "/data", HostPath: "/var/lib/skiff/pods/u/volumes/data", Readonly: true, Propagation: runtimeapi.MountPropagation_PROPAGATION_PRIVATE},
					{ContainerPath: "/h2c", HostPath: "/h", Propagation: runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER},
					{ContainerPath: "/bi", HostPath: "/b", Propagation: runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL},
				},
				LogPath: "c/3.log",
				Stdin:   true,
				Tty:     true,
				Linux: &runtimeapi.LinuxContainerConfig{
					Resources: &runtimeapi.LinuxContainerResources{CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512, MemoryLimitInBytes: 1 << 26, OomScoreAdj: 1000},
					SecurityContext: &runtimeapi.LinuxContainerSecurityContext{
						NamespaceOptions: nodeNS,
						RunAsUser:        &runtimeapi.Int64Value{Value: 0},
						ReadonlyRootfs:   true,
						NoNewPrivs:       true,
						Capabilities: &runtimeapi.Capability{
							AddCapabilities:  []string{"CAP_NET_ADMIN", "CAP_SYS_TIME"},
							DropCapabilities: []string{"ALL"},
						},
					},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, containerConfigToCRI(tt.in, tt.sandbox), protocmp.Transform()); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusFromCRI(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	started := created.Add(time.Second)
	finished := created.Add(time.Minute)
	got := containerStatusFromCRI(&runtimeapi.ContainerStatus{
		Id:         "c1",
		Metadata:   &runtimeapi.ContainerMetadata{Name: "app", Attempt: 2},
		State:      runtimeapi.ContainerState_CONTAINER_EXITED,
		CreatedAt:  created.UnixNano(),
		StartedAt:  started.UnixNano(),
		FinishedAt: finished.UnixNano(),
		ExitCode:   137,
		Image:      &runtimeapi.ImageSpec{Image: "busybox"},
		ImageRef:   "sha256:abc",
		Reason:     "OOMKilled",
		Message:    "memory",
		Labels:     map[string]string{"k": "v"},
	}, "s1")
	want := &runtime.ContainerStatus{
		Container: runtime.Container{
			ID: "c1", PodSandboxID: "s1", Metadata: runtime.ContainerMetadata{Name: "app", Attempt: 2},
			Image: "busybox", ImageRef: "sha256:abc", State: runtime.ContainerExited, CreatedAt: created,
			Labels: map[string]string{"k": "v"}, Annotations: map[string]string{},
		},
		StartedAt: started, FinishedAt: finished, ExitCode: 137, Reason: "OOMKilled", Message: "memory",
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("container status mismatch (-want +got):\n%s", diff)
	}

	states := map[runtimeapi.ContainerState]runtime.ContainerState{
		runtimeapi.ContainerState_CONTAINER_CREATED: runtime.ContainerCreated,
		runtimeapi.ContainerState_CONTAINER_RUNNING: runtime.ContainerRunning,
		runtimeapi.ContainerState_CONTAINER_EXITED:  runtime.ContainerExited,
		runtimeapi.ContainerState_CONTAINER_UNKNOWN: runtime.ContainerUnknown,
	}
	for in, want := range states {
		if got := containerStateFromCRI(in); got != want {
			t.Errorf("state %v = %v, want %v", in, got, want)
		}
	}

	sb := sandboxStatusFromCRI(&runtimeapi.PodSandboxStatus{
		Id:       "s1",
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "p", Namespace: "ns", Uid: "u", Attempt: 1},
		State:    runtimeapi.PodSandboxState_SANDBOX_NOTREADY,
		Network:  &runtimeapi.PodSandboxNetworkStatus{Ip: "10.244.0.5"},
		Labels:   map[string]string{"skiff": "yes"},
	})
	if sb.ID != "s1" || sb.IP != "10.244.0.5" || sb.State != runtime.SandboxNotReady || sb.Metadata.UID != "u" || sb.Labels["skiff"] != "yes" || !sb.CreatedAt.IsZero() {
		t.Errorf("sandbox status = %+v", sb)
	}
	if s := sandboxFromCRI(&runtimeapi.PodSandbox{State: runtimeapi.PodSandboxState_SANDBOX_READY}); s.State != runtime.SandboxReady || s.Labels == nil {
		t.Errorf("sandbox = %+v", s)
	}
	if img := imageFromCRI(&runtimeapi.Image{Id: "sha256:1", RepoTags: []string{"a"}, Size: 42}); img.ID != "sha256:1" || img.Size != 42 || len(img.Tags) != 1 {
		t.Errorf("image = %+v", img)
	}
	if imageFromCRI(nil) != nil {
		t.Error("nil image converted to non-nil")
	}
}

func TestSeconds(t *testing.T) {
	for in, want := range map[time.Duration]int64{
		0: 0, -time.Second: 0, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, 30 * time.Second: 30,
	} {
		if got := seconds(in); got != want {
			t.Errorf("seconds(%v) = %d, want %d", in, got, want)
		}
	}
}
