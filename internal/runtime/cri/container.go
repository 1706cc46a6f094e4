package cri

import (
	"context"
	"errors"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// CreateContainer creates a container in a sandbox. sandbox must be the
// configuration the sandbox was run with (CRI needs it, e.g. for the log
// directory and the network namespace mode).
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg *runtime.ContainerConfig, sandbox *runtime.PodSandboxConfig) (string, error) {
	if cfg == nil {
		return "", errors.New("cri: create container: no config")
	}
	resp, err := r.rt.CreateContainer(ctx, &runtimeapi.CreateContainerRequest{
		PodSandboxId:  sandboxID,
		Config:        containerConfigToCRI(cfg, sandbox),
		SandboxConfig: sandboxConfigToCRI(sandbox),
	})
	if err != nil {
		return "", wrap(err, "create container "+cfg.Metadata.Name)
	}
	return resp.GetContainerId(), nil
}

// StartContainer starts a created container.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	if _, err := r.rt.StartContainer(ctx, &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		return wrap(err, "start container "+id)
	}
	return nil
}

// StopContainer sends SIGTERM (or the image's stop signal) and kills the
// container after timeout, rounded up to whole seconds.
func (r *Runtime) StopContainer(ctx context.Context, id string, timeout time.Duration) error {
	req := &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: seconds(timeout)}
	if _, err := r.rt.StopContainer(ctx, req); err != nil {
		return wrap(err, "stop container "+id)
	}
	return nil
}

// RemoveContainer removes a container that is not running.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	if _, err := r.rt.RemoveContainer(ctx, &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
		return wrap(err, "remove container "+id)
	}
	return nil
}

// ListContainers lists every container.
func (r *Runtime) ListContainers(ctx context.Context) ([]*runtime.Container, error) {
	return r.listContainers(ctx, nil)
}

func (r *Runtime) listContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtime.Container, error) {
	resp, err := r.rt.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: filter})
	if err != nil {
		return nil, wrap(err, "list containers")
	}
	out := make([]*runtime.Container, 0, len(resp.GetContainers()))
	for _, c := range resp.GetContainers() {
		out = append(out, containerFromCRI(c))
	}
	return out, nil
}

// ContainerStatus returns one container's state, times and exit (with
// the runtime's reason, e.g. OOMKilled, Completed or Error).
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (*runtime.ContainerStatus, error) {
	resp, err := r.rt.ContainerStatus(ctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		return nil, wrap(err, "container status "+id)
	}
	// CRI's status does not name the sandbox; a listing does.
	sandboxID := ""
	if list, err := r.listContainers(ctx, &runtimeapi.ContainerFilter{Id: id}); err == nil && len(list) == 1 {
		sandboxID = list[0].PodSandboxID
	}
	return containerStatusFromCRI(resp.GetStatus(), sandboxID), nil
}

// ExecSync runs cmd in a running container and waits for it.
func (r *Runtime) ExecSync(ctx context.Context, id string, cmd []string, timeout time.Duration) (*runtime.ExecResult, error) {
	if timeout > 0 {
		// The runtime enforces timeout; the call itself gets some slack.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout+10*time.Second)
		defer cancel()
	}
	resp, err := r.rt.ExecSync(ctx, &runtimeapi.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: seconds(timeout)})
	if err != nil {
		return nil, wrap(err, "exec in container "+id)
	}
	return &runtime.ExecResult{Stdout: resp.GetStdout(), Stderr: resp.GetStderr(), ExitCode: resp.GetExitCode()}, nil
}

// seconds rounds a duration up to whole seconds, as CRI's timeouts are;
// zero or negative is 0.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
