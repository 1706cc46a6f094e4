package cri

import (
	"context"
	"errors"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/skiffkube/skiff/internal/runtime"
)

// RunPodSandbox creates and starts a sandbox, with its network set up by
// CNI unless cfg.HostNetwork.
func (r *Runtime) RunPodSandbox(ctx context.Context, cfg *runtime.PodSandboxConfig) (string, error) {
	if cfg == nil {
		return "", errors.New("cri: run sandbox: no config")
	}
	resp, err := r.rt.RunPodSandbox(ctx, &runtimeapi.RunPodSandboxRequest{Config: sandboxConfigToCRI(cfg)})
	if err != nil {
		return "", wrap(err, "run sandbox "+cfg.Metadata.Namespace+"/"+cfg.Metadata.Name)
	}
	return resp.GetPodSandboxId(), nil
}

// StopPodSandbox stops the sandbox and its containers and tears its
// network down.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	if _, err := r.rt.StopPodSandbox(ctx, &runtimeapi.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
		return wrap(err, "stop sandbox "+id)
	}
	return nil
}

// RemovePodSandbox removes a sandbox and its containers.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	if _, err := r.rt.RemovePodSandbox(ctx, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
		return wrap(err, "remove sandbox "+id)
	}
	return nil
}

// ListPodSandbox lists every sandbox.
func (r *Runtime) ListPodSandbox(ctx context.Context) ([]*runtime.PodSandbox, error) {
	resp, err := r.rt.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{})
	if err != nil {
		return nil, wrap(err, "list sandboxes")
	}
	out := make([]*runtime.PodSandbox, 0, len(resp.GetItems()))
	for _, s := range resp.GetItems() {
		out = append(out, sandboxFromCRI(s))
	}
	return out, nil
}

// PodSandboxStatus returns one sandbox with its IP.
func (r *Runtime) PodSandboxStatus(ctx context.Context, id string) (*runtime.PodSandboxStatus, error) {
	resp, err := r.rt.PodSandboxStatus(ctx, &runtimeapi.PodSandboxStatusRequest{PodSandboxId: id})
	if err != nil {
		return nil, wrap(err, "sandbox status "+id)
	}
	return sandboxStatusFromCRI(resp.GetStatus()), nil
}

// RemoveAll stops and removes every sandbox (and so every container). A
// node that should leave nothing running when it stops calls it before
// stopping containerd: containers otherwise outlive containerd, as they
// outlive a kubelet.
func (r *Runtime) RemoveAll(ctx context.Context) error {
	sandboxes, err := r.ListPodSandbox(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range sandboxes {
		if err := r.StopPodSandbox(ctx, s.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, err)
			continue
		}
		if err := r.RemovePodSandbox(ctx, s.ID); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
