package cri

import (
	"context"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StreamOptions choose the streams of an exec or attach session.
type StreamOptions struct {
	Stdin, Stdout, Stderr, TTY bool
}

// Exec prepares a streaming exec of cmd in a container and returns the URL
// of the runtime's streaming server that serves it (the agent proxies the
// API server's request to it).
func (r *Runtime) Exec(ctx context.Context, containerID string, cmd []string, opts StreamOptions) (string, error) {
	resp, err := r.rt.Exec(ctx, &runtimeapi.ExecRequest{
		ContainerId: containerID, Cmd: cmd,
		Stdin: opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, Tty: opts.TTY,
	})
	if err != nil {
		return "", wrap(err, "exec in container "+containerID)
	}
	return resp.GetUrl(), nil
}

// Attach prepares a streaming attach to a container's process and returns
// the streaming server URL.
func (r *Runtime) Attach(ctx context.Context, containerID string, opts StreamOptions) (string, error) {
	resp, err := r.rt.Attach(ctx, &runtimeapi.AttachRequest{
		ContainerId: containerID,
		Stdin:       opts.Stdin, Stdout: opts.Stdout, Stderr: opts.Stderr, Tty: opts.TTY,
	})
	if err != nil {
		return "", wrap(err, "attach to container "+containerID)
	}
	return resp.GetUrl(), nil
}

// PortForward prepares port forwarding into a sandbox's network namespace
// and returns the streaming server URL.
func (r *Runtime) PortForward(ctx context.Context, sandboxID string, ports []int32) (string, error) {
	resp, err := r.rt.PortForward(ctx, &runtimeapi.PortForwardRequest{PodSandboxId: sandboxID, Port: ports})
	if err != nil {
		return "", wrap(err, "port-forward to sandbox "+sandboxID)
	}
	return resp.GetUrl(), nil
}

// ReopenContainerLog makes the runtime reopen a container's log file
// (after the agent rotated it).
func (r *Runtime) ReopenContainerLog(ctx context.Context, containerID string) error {
	if _, err := r.rt.ReopenContainerLog(ctx, &runtimeapi.ReopenContainerLogRequest{ContainerId: containerID}); err != nil {
		return wrap(err, "reopen log of container "+containerID)
	}
	return nil
}
