package server

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/skiffkube/skiff/internal/runtime"
)

// ErrPodNotFound is returned by Pods when the node runs nothing of a pod.
var ErrPodNotFound = errors.New("pod not found")

// Pods finds what the node runs for a pod.
type Pods interface {
	// LookupPod returns the newest sandbox of pod namespace/name and its
	// containers, or ErrPodNotFound.
	LookupPod(ctx context.Context, namespace, name string) (*Pod, error)
}

// Pod is the runtime's view of one pod.
type Pod struct {
	Namespace, Name, UID string
	// SandboxID is the newest sandbox; SandboxReady says whether it runs.
	SandboxID    string
	SandboxReady bool
	// Containers by container name, newest attempt first.
	Containers map[string][]Container
}

// Container is one runtime container of a pod.
type Container struct {
	ID      string
	Attempt uint32
	State   runtime.ContainerState
	// LogPath is the container's CRI log file (absolute).
	LogPath string
}

// Latest is the newest container named name, or nil.
func (p *Pod) Latest(name string) *Container {
	if cs := p.Containers[name]; len(cs) > 0 {
		return &cs[0]
	}
	return nil
}

// Previous is the container named name before the newest one, or nil.
func (p *Pod) Previous(name string) *Container {
	if cs := p.Containers[name]; len(cs) > 1 {
		return &cs[1]
	}
	return nil
}

// RuntimePods implements Pods over a runtime, with log paths in the
// agent's layout: <DataDir>/logs/<namespace>_<name>_<uid>/<container>/<attempt>.log.
type RuntimePods struct {
	Runtime runtime.Runtime
	// DataDir is the agent's data directory (agent.Config.DataDir).
	DataDir string
}

var _ Pods = RuntimePods{}

// LookupPod lists the runtime's sandboxes and containers and keeps those
// of the newest sandbox of namespace/name (a pod recreated under the same
// name has a new UID: the older one's leftovers are ignored).
func (p RuntimePods) LookupPod(ctx context.Context, namespace, name string) (*Pod, error) {
	sbs, err := p.Runtime.ListPodSandbox(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing sandboxes: %w", err)
	}
	var newest *runtime.PodSandbox
	for _, sb := range sbs {
		if sb.Metadata.Namespace != namespace || sb.Metadata.Name != name {
			continue
		}
		if newest == nil || sb.CreatedAt.After(newest.CreatedAt) {
			newest = sb
		}
	}
	if newest == nil {
		return nil, ErrPodNotFound
	}
	uid := newest.Metadata.UID
	sandboxes := map[string]bool{}
	for _, sb := range sbs {
		if sb.Metadata.UID == uid {
			sandboxes[sb.ID] = true
		}
	}
	cs, err := p.Runtime.ListContainers(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	pod := &Pod{Namespace: namespace, Name: name, UID: uid, SandboxID: newest.ID,
		SandboxReady: newest.State == runtime.SandboxReady, Containers: map[string][]Container{}}
	dir := PodLogDirectory(p.DataDir, namespace, name, uid)
	for _, c := range cs {
		if !sandboxes[c.PodSandboxID] {
			continue
		}
		n := c.Metadata.Name
		pod.Containers[n] = append(pod.Containers[n], Container{ID: c.ID, Attempt: c.Metadata.Attempt, State: c.State,
			LogPath: filepath.Join(dir, ContainerLogPath(n, c.Metadata.Attempt))})
	}
	for _, list := range pod.Containers {
		sort.Slice(list, func(i, j int) bool { return list[i].Attempt > list[j].Attempt })
	}
	return pod, nil
}

// PodLogDirectory is a pod's log directory in the agent's layout.
func PodLogDirectory(dataDir, namespace, name, uid string) string {
	return filepath.Join(dataDir, "logs", fmt.Sprintf("%s_%s_%s", namespace, name, uid))
}

// ContainerLogPath is a container's log file relative to its pod's log
// directory.
func ContainerLogPath(container string, attempt uint32) string {
	return filepath.Join(container, fmt.Sprintf("%d.log", attempt))
}
