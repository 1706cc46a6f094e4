package fake

import (
	"context"
	"fmt"
	"maps"
	"path"
	"time"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Exit codes of stopped containers: SIGTERM honoured, SIGKILL after the
// timeout.
const (
	exitTerm int32 = 143
	exitKill int32 = 137
)

// CreateContainer implements runtime.Runtime.
func (r *Runtime) CreateContainer(_ context.Context, sandboxID string, cfg *runtime.ContainerConfig, sb *runtime.PodSandboxConfig) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.sandboxes[sandboxID]
	if !ok {
		return "", fmt.Errorf("sandbox %s: %w", sandboxID, runtime.ErrNotFound)
	}
	if s.State != runtime.SandboxReady {
		return "", fmt.Errorf("sandbox %s is not ready", sandboxID)
	}
	ann := s.Annotations
	if sb != nil {
		ann = sb.Annotations
	}
	c := &container{
		Container: runtime.Container{
			ID:           "c-" + r.newID(),
			PodSandboxID: sandboxID,
			Metadata:     cfg.Metadata,
			Image:        cfg.Image,
			ImageRef:     r.images[cfg.Image],
			State:        runtime.ContainerCreated,
			CreatedAt:    r.clock.Now(),
			Labels:       maps.Clone(cfg.Labels),
			Annotations:  maps.Clone(cfg.Annotations),
		},
		b: behaviourOf(cfg, ann),
	}
	r.containers[c.ID] = c
	return c.ID, nil
}

// StartContainer implements runtime.Runtime.
func (r *Runtime) StartContainer(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	if c.State != runtime.ContainerCreated {
		return fmt.Errorf("container %s is %s, not created", id, c.State)
	}
	c.State = runtime.ContainerRunning
	c.startedAt = r.clock.Now()
	return nil
}

// StopContainer implements runtime.Runtime. It does not block: the
// container exits when its stop time (fake-stop-seconds, capped by the
// timeout) has passed, as later reads show.
func (r *Runtime) StopContainer(_ context.Context, id string, timeout time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	r.kill(c, r.clock.Now(), timeout)
	return nil
}

// kill requests a stop of c at now with the given grace.
func (r *Runtime) kill(c *container, now time.Time, grace time.Duration) {
	r.refresh(c, now)
	switch c.State {
	case runtime.ContainerCreated:
		c.State = runtime.ContainerExited
		c.killCreated(now)
		return
	case runtime.ContainerRunning:
	default:
		return
	}
	d, code := c.b.stop, exitTerm
	if d > grace {
		d, code = grace, exitKill
	}
	at := now.Add(d)
	if !c.stopAt.IsZero() && c.stopAt.Before(at) {
		return
	}
	c.stopAt, c.stopCode = at, code
	r.refresh(c, now)
}

// refresh moves c to exited if its time has come.
func (r *Runtime) refresh(c *container, now time.Time) {
	if c.State != runtime.ContainerRunning {
		return
	}
	if _, done := c.end(); done && !now.Before(c.finish()) {
		c.State = runtime.ContainerExited
	}
}

// end returns the exit code and whether the container will end at all.
func (c *container) end() (int32, bool) {
	natural := c.b.run != forever
	if c.startedAt.IsZero() && !c.stopAt.IsZero() {
		return c.stopCode, true
	}
	if c.stopAt.IsZero() {
		return c.b.exitCode, natural
	}
	if natural && !c.startedAt.Add(c.b.run).After(c.stopAt) {
		return c.b.exitCode, true
	}
	return c.stopCode, true
}

// finish is when the container ends (only meaningful if end says it will).
func (c *container) finish() time.Time {
	natural := c.startedAt.Add(c.b.run)
	if c.startedAt.IsZero() {
		return c.stopAt
	}
	if c.stopAt.IsZero() || (c.b.run != forever && natural.Before(c.stopAt)) {
		return natural
	}
	return c.stopAt
}

// killCreated records the end of a container that never started.
func (c *container) killCreated(t time.Time) {
	c.startedAt = time.Time{}
	c.stopAt = t
	c.stopCode = exitKill
}

// RemoveContainer implements runtime.Runtime.
func (r *Runtime) RemoveContainer(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil
	}
	r.refresh(c, r.clock.Now())
	if c.State == runtime.ContainerRunning {
		return fmt.Errorf("container %s is running", id)
	}
	delete(r.containers, id)
	return nil
}

// ListContainers implements runtime.Runtime.
func (r *Runtime) ListContainers(context.Context) ([]*runtime.Container, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	out := make([]*runtime.Container, 0, len(r.containers))
	for _, c := range r.containers {
		r.refresh(c, now)
		cc := c.Container
		out = append(out, &cc)
	}
	return out, nil
}

// ContainerStatus implements runtime.Runtime.
func (r *Runtime) ContainerStatus(_ context.Context, id string) (*runtime.ContainerStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	r.refresh(c, r.clock.Now())
	st := &runtime.ContainerStatus{Container: c.Container, StartedAt: c.startedAt}
	if c.State == runtime.ContainerExited {
		st.FinishedAt = c.finish()
		st.ExitCode, _ = c.end()
		st.Reason = "Error"
		if st.ExitCode == 0 {
			st.Reason = "Completed"
		}
	}
	return st, nil
}

// NextChange implements runtime.ChangeNotifier: the earliest exit of a
// running container.
func (r *Runtime) NextChange() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now()
	var next time.Time
	for _, c := range r.containers {
		r.refresh(c, now)
		if c.State != runtime.ContainerRunning {
			continue
		}
		if _, ends := c.end(); ends {
			if t := c.finish(); next.IsZero() || t.Before(next) {
				next = t
			}
		}
	}
	return next
}

// ExecSync implements runtime.Runtime. Commands are not run: a command
// whose base name is "false" exits 1, "true" or anything else exits 0, so
// exec probes can be exercised without processes. The container must be
// running.
func (r *Runtime) ExecSync(_ context.Context, id string, cmd []string, _ time.Duration) (*runtime.ExecResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[id]
	if !ok {
		return nil, fmt.Errorf("container %s: %w", id, runtime.ErrNotFound)
	}
	r.refresh(c, r.clock.Now())
	if c.State != runtime.ContainerRunning {
		return nil, fmt.Errorf("container %s is not running", id)
	}
	res := &runtime.ExecResult{}
	if len(cmd) > 0 && path.Base(cmd[0]) == "false" {
		res.ExitCode = 1
	}
	return res, nil
}
