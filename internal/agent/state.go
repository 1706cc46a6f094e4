package agent

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Labels the agent puts on sandboxes and containers to find their pod.
const (
	LabelPodName      = "io.kubernetes.pod.name"
	LabelPodNamespace = "io.kubernetes.pod.namespace"
	LabelPodUID       = "io.kubernetes.pod.uid"
	LabelContainer    = "io.kubernetes.container.name"
)

// RuntimeState is what the runtime holds, grouped by pod UID.
type RuntimeState struct {
	Pods map[types.UID]*PodState
}

// PodState is one pod's sandboxes and containers.
type PodState struct {
	// Sandboxes, newest (highest attempt) first.
	Sandboxes []*runtime.PodSandboxStatus
	// Containers by container name, newest (highest attempt) first.
	Containers map[string][]*runtime.ContainerStatus
}

// Sandbox is the newest sandbox, or nil.
func (p *PodState) Sandbox() *runtime.PodSandboxStatus {
	if p == nil || len(p.Sandboxes) == 0 {
		return nil
	}
	return p.Sandboxes[0]
}

// Latest is the newest container of the given name, or nil.
func (p *PodState) Latest(name string) *runtime.ContainerStatus {
	if p == nil || len(p.Containers[name]) == 0 {
		return nil
	}
	return p.Containers[name][0]
}

// Pod returns the state of one pod (nil if the runtime has nothing of it).
func (s RuntimeState) Pod(uid types.UID) *PodState { return s.Pods[uid] }

// NewRuntimeState groups sandboxes and containers by pod and sorts them
// newest first. Containers of unknown sandboxes are grouped by their pod
// UID label.
func NewRuntimeState(sandboxes []*runtime.PodSandboxStatus, containers []*runtime.ContainerStatus) RuntimeState {
	st := RuntimeState{Pods: map[types.UID]*PodState{}}
	get := func(uid types.UID) *PodState {
		p := st.Pods[uid]
		if p == nil {
			p = &PodState{Containers: map[string][]*runtime.ContainerStatus{}}
			st.Pods[uid] = p
		}
		return p
	}
	bySandbox := map[string]types.UID{}
	for _, s := range sandboxes {
		uid := types.UID(s.Metadata.UID)
		bySandbox[s.ID] = uid
		p := get(uid)
		p.Sandboxes = append(p.Sandboxes, s)
	}
	for _, c := range containers {
		uid, ok := bySandbox[c.PodSandboxID]
		if !ok {
			uid = types.UID(c.Labels[LabelPodUID])
		}
		p := get(uid)
		p.Containers[c.Metadata.Name] = append(p.Containers[c.Metadata.Name], c)
	}
	for _, p := range st.Pods {
		sort.Slice(p.Sandboxes, func(i, j int) bool {
			a, b := p.Sandboxes[i], p.Sandboxes[j]
			if a.Metadata.Attempt != b.Metadata.Attempt {
				return a.Metadata.Attempt > b.Metadata.Attempt
			}
			return a.CreatedAt.After(b.CreatedAt)
		})
		for _, cs := range p.Containers {
			sort.Slice(cs, func(i, j int) bool {
				if cs[i].Metadata.Attempt != cs[j].Metadata.Attempt {
					return cs[i].Metadata.Attempt > cs[j].Metadata.Attempt
				}
				return cs[i].CreatedAt.After(cs[j].CreatedAt)
			})
		}
	}
	return st
}

// Observe reads the runtime's whole state.
func Observe(ctx context.Context, rt runtime.Runtime) (RuntimeState, error) {
	sbs, err := rt.ListPodSandbox(ctx)
	if err != nil {
		return RuntimeState{}, fmt.Errorf("listing sandboxes: %w", err)
	}
	statuses := make([]*runtime.PodSandboxStatus, 0, len(sbs))
	for _, sb := range sbs {
		st, err := rt.PodSandboxStatus(ctx, sb.ID)
		if errors.Is(err, runtime.ErrNotFound) {
			continue
		}
		if err != nil {
			return RuntimeState{}, fmt.Errorf("sandbox %s status: %w", sb.ID, err)
		}
		statuses = append(statuses, st)
	}
	cs, err := rt.ListContainers(ctx)
	if err != nil {
		return RuntimeState{}, fmt.Errorf("listing containers: %w", err)
	}
	cstatuses := make([]*runtime.ContainerStatus, 0, len(cs))
	for _, c := range cs {
		st, err := rt.ContainerStatus(ctx, c.ID)
		if errors.Is(err, runtime.ErrNotFound) {
			continue
		}
		if err != nil {
			return RuntimeState{}, fmt.Errorf("container %s status: %w", c.ID, err)
		}
		cstatuses = append(cstatuses, st)
	}
	return NewRuntimeState(statuses, cstatuses), nil
}
