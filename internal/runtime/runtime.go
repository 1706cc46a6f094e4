package runtime

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned for a sandbox, container or image ID the runtime
// does not know.
var ErrNotFound = errors.New("not found")

// Runtime is a CRI-shaped container runtime. Every method is safe for
// concurrent use. IDs are opaque strings chosen by the runtime.
type Runtime interface {
	// Version names the runtime and its version.
	Version(ctx context.Context) (VersionInfo, error)

	// RunPodSandbox creates and starts a sandbox (network namespace, pause
	// process) and returns its ID.
	RunPodSandbox(ctx context.Context, cfg *PodSandboxConfig) (string, error)
	// StopPodSandbox stops the sandbox and every container in it. It is
	// idempotent.
	StopPodSandbox(ctx context.Context, id string) error
	// RemovePodSandbox removes a sandbox and its containers.
	RemovePodSandbox(ctx context.Context, id string) error
	// ListPodSandbox lists every sandbox.
	ListPodSandbox(ctx context.Context) ([]*PodSandbox, error)
	// PodSandboxStatus returns one sandbox with its network status.
	PodSandboxStatus(ctx context.Context, id string) (*PodSandboxStatus, error)

	// CreateContainer creates a container in a sandbox and returns its ID.
	CreateContainer(ctx context.Context, sandboxID string, cfg *ContainerConfig, sandbox *PodSandboxConfig) (string, error)
	// StartContainer starts a created container.
	StartContainer(ctx context.Context, id string) error
	// StopContainer asks a container to stop (SIGTERM), killing it after
	// timeout. It is idempotent.
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	// RemoveContainer removes a container that is not running.
	RemoveContainer(ctx context.Context, id string) error
	// ListContainers lists every container.
	ListContainers(ctx context.Context) ([]*Container, error)
	// ContainerStatus returns one container's state, times and exit code.
	ContainerStatus(ctx context.Context, id string) (*ContainerStatus, error)

	// ExecSync runs cmd in a running container and waits for it, up to
	// timeout (0: no limit). A non-zero exit is not an error: it is in the
	// result.
	ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (*ExecResult, error)

	// PullImage makes an image present and returns its reference (digest).
	PullImage(ctx context.Context, image string) (string, error)
	// ImageStatus returns the image, or nil if it is not present.
	ImageStatus(ctx context.Context, image string) (*Image, error)
	// ListImages lists every present image.
	ListImages(ctx context.Context) ([]*Image, error)
	// RemoveImage removes an image by ID or reference (with all its
	// tags). It is idempotent: an absent image is not an error.
	RemoveImage(ctx context.Context, ref string) error

	// ListContainerStats returns the resource usage of the runtime's
	// containers: every running one, and maybe others with zero usage.
	ListContainerStats(ctx context.Context) ([]*ContainerStats, error)
}

// VersionInfo identifies a runtime, as the node reports it
// (status.nodeInfo.containerRuntimeVersion is "<RuntimeName>://<RuntimeVersion>").
type VersionInfo struct {
	RuntimeName       string
	RuntimeVersion    string
	RuntimeAPIVersion string
}

// SandboxState is the state of a pod sandbox.
type SandboxState string

// Sandbox states, as CRI names them.
const (
	SandboxReady    SandboxState = "SANDBOX_READY"
	SandboxNotReady SandboxState = "SANDBOX_NOTREADY"
)

// ContainerState is the state of a container.
type ContainerState string

// Container states, as CRI names them.
const (
	ContainerCreated ContainerState = "CONTAINER_CREATED"
	ContainerRunning ContainerState = "CONTAINER_RUNNING"
	ContainerExited  ContainerState = "CONTAINER_EXITED"
	ContainerUnknown ContainerState = "CONTAINER_UNKNOWN"
)

// PodSandboxMetadata identifies the pod a sandbox belongs to.
type PodSandboxMetadata struct {
	Name      string
	Namespace string
	UID       string
	// Attempt counts sandboxes created for the same pod.
	Attempt uint32
}

// PodSandboxConfig is what the agent asks for when it runs a sandbox.
type PodSandboxConfig struct {
	Metadata    PodSandboxMetadata
	Hostname    string
	HostNetwork bool
	// LogDirectory is where the runtime writes the containers' logs
	// (<LogDirectory>/<ContainerConfig.LogPath>).
	LogDirectory string
	// DNS is the resolv.conf the pod's containers see; nil keeps the
	// runtime's default.
	DNS *DNSConfig
	// PortMappings are the pod's hostPorts.
	PortMappings []PortMapping
	// CgroupParent is the pod-level cgroup; "" lets the runtime choose.
	CgroupParent string
	// Sysctls are namespaced sysctls from the pod's securityContext.
	Sysctls map[string]string
	// Linux holds the pod-level security settings applied to the sandbox.
	Security *SecurityContext
	// Labels identify the pod to the agent; Annotations are the pod's.
	Labels      map[string]string
	Annotations map[string]string
}

// PodSandbox is one sandbox as listed.
type PodSandbox struct {
	ID          string
	Metadata    PodSandboxMetadata
	State       SandboxState
	CreatedAt   time.Time
	Labels      map[string]string
	Annotations map[string]string
}

// PodSandboxStatus is a sandbox with its network status.
type PodSandboxStatus struct {
	PodSandbox
	// IP is the pod's IP ("" with host networking).
	IP string
}

// KeyValue is an environment variable.
type KeyValue struct {
	Key, Value string
}

// ContainerMetadata names a container within its pod.
type ContainerMetadata struct {
	Name string
	// Attempt counts containers created for the same name in the pod: the
	// restart count.
	Attempt uint32
}

// ContainerConfig is what the agent asks for when it creates a container.
type ContainerConfig struct {
	Metadata    ContainerMetadata
	Image       string
	Command     []string
	Args        []string
	Env         []KeyValue
	WorkingDir  string
	Labels      map[string]string
	Annotations map[string]string
	// Mounts are host paths bound into the container (volumes, prepared
	// by the agent on the host).
	Mounts []Mount
	// LogPath is relative to the sandbox's LogDirectory.
	LogPath string
	// Resources are the container's cgroup limits; nil means none.
	Resources *Resources
	// Security is the container's effective security context; nil means
	// the runtime's defaults.
	Security *SecurityContext
	// Stdin and TTY keep the container's stdin open and allocate a tty.
	Stdin, TTY bool
}

// Mount binds a host path into a container.
type Mount struct {
	ContainerPath string
	HostPath      string
	ReadOnly      bool
	// Propagation is "", "HostToContainer" or "Bidirectional".
	Propagation string
}

// Resources are a container's Linux cgroup settings, already converted
// from Kubernetes requests and limits (see CRI's LinuxContainerResources).
type Resources struct {
	CPUPeriod        int64 // microseconds; 0 = unset
	CPUQuota         int64 // microseconds per period; 0 = unlimited
	CPUShares        int64
	MemoryLimitBytes int64 // 0 = unlimited
	OOMScoreAdj      int64
}

// SecurityContext is a container's (or sandbox's) effective security
// settings.
type SecurityContext struct {
	RunAsUser              *int64
	RunAsGroup             *int64
	SupplementalGroups     []int64
	ReadOnlyRootFilesystem bool
	Privileged             bool
	AddCapabilities        []string
	DropCapabilities       []string
	NoNewPrivs             bool
}

// DNSConfig is a pod's resolv.conf.
type DNSConfig struct {
	Servers  []string
	Searches []string
	Options  []string
}

// PortMapping maps a host port to a container port.
type PortMapping struct {
	Protocol      string // TCP, UDP, SCTP
	ContainerPort int32
	HostPort      int32
	HostIP        string
}

// ExecResult is what ExecSync returns.
type ExecResult struct {
	Stdout, Stderr []byte
	ExitCode       int32
}

// Container is one container as listed.
type Container struct {
	ID           string
	PodSandboxID string
	Metadata     ContainerMetadata
	Image        string
	ImageRef     string
	State        ContainerState
	CreatedAt    time.Time
	Labels       map[string]string
	Annotations  map[string]string
}

// ContainerStatus is a container with its times and exit.
type ContainerStatus struct {
	Container
	StartedAt  time.Time
	FinishedAt time.Time
	ExitCode   int32
	// Reason is the runtime's reason for the exit (e.g. OOMKilled, Error,
	// Completed); Message explains it.
	Reason  string
	Message string
}

// ContainerStats is one container's resource usage at Timestamp.
type ContainerStats struct {
	// ID is the container's ID.
	ID        string
	Timestamp time.Time
	// CPUUsageCoreNanoSeconds is the CPU time used since the container
	// started; CPUUsageNanoCores the recent rate of use, or 0 when the
	// runtime does not compute it (callers derive it from two samples).
	CPUUsageCoreNanoSeconds uint64
	CPUUsageNanoCores       uint64
	// Memory: the working set (usage less inactive file pages), total
	// usage and anonymous resident memory.
	MemoryWorkingSetBytes uint64
	MemoryUsageBytes      uint64
	MemoryRSSBytes        uint64
	// WritableLayerBytes is what the container's writable layer uses.
	WritableLayerBytes uint64
}

// Image is a present image. The runtime does not say when it was last
// used: the agent tracks that itself.
type Image struct {
	// ID is the image's ID (its config digest); Tags its repository tags.
	ID   string
	Tags []string
	// Size is what the image takes on disk, in bytes.
	Size uint64
	// Pinned images (the sandbox image) are never garbage collected.
	Pinned bool
}

// ChangeNotifier is implemented by runtimes that know when their state
// will next change on its own (the fake runtime computes container exits
// from the clock). The agent then relists at that time instead of polling.
type ChangeNotifier interface {
	// NextChange is the earliest time the state changes without a call,
	// or the zero time if it never does.
	NextChange() time.Time
}
