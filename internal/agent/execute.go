package agent

import (
	"context"
	"fmt"
	"log/slog"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/runtime"
)

// Start error reasons, as kubectl shows them.
const (
	ReasonErrImagePull          = "ErrImagePull"
	ReasonErrImageNeverPull     = "ErrImageNeverPull"
	ReasonCreateContainerError  = "CreateContainerError"
	ReasonRunContainerError     = "RunContainerError"
	ReasonCreatePodSandboxError = "CreatePodSandboxError"
)

// execute runs the actions in order; failures are logged (and kept as
// start errors for the status) and retried by a later sync.
func (a *Agent) execute(ctx context.Context, actions []Action, observed RuntimeState, log *slog.Logger) {
	rt := a.cfg.Runtime
	for _, act := range actions {
		var err error
		switch act.Kind {
		case RunSandbox:
			_, err = rt.RunPodSandbox(ctx, sandboxConfig(act.Pod, act.Attempt))
			if err != nil {
				a.setStartErr(act.UID, "", StartError{Reason: ReasonCreatePodSandboxError, Message: err.Error()})
			} else {
				a.clearStartErr(act.UID, "")
			}
		case StartContainer:
			err = a.startContainer(ctx, act, observed)
		case KillContainer:
			err = rt.StopContainer(ctx, act.ID, act.Grace)
		case RemoveContainer:
			err = rt.RemoveContainer(ctx, act.ID)
		case StopSandbox:
			err = rt.StopPodSandbox(ctx, act.ID)
		case RemoveSandbox:
			err = rt.RemovePodSandbox(ctx, act.ID)
		case DeletePod:
			err = a.deletePod(ctx, act.Pod)
		}
		if err != nil {
			warn(ctx, log, "action failed", "action", act.Kind, "uid", act.UID, "container", act.Container, "err", err)
		} else {
			log.Debug("action", "action", act.Kind, "uid", act.UID, "container", act.Container, "id", act.ID, "reason", act.Reason)
		}
	}
}

func (a *Agent) setStartErr(uid types.UID, container string, e StartError) {
	m := a.startErrs[uid]
	if m == nil {
		m = map[string]StartError{}
		a.startErrs[uid] = m
	}
	m[container] = e
}

// deletePod finishes a graceful deletion once, with the pod's UID as a
// precondition so a new pod of the same name is safe.
func (a *Agent) deletePod(ctx context.Context, pod *corev1.Pod) error {
	if a.deleting[pod.UID] {
		return nil
	}
	zero := int64(0)
	uid := pod.UID
	err := a.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	a.deleting[pod.UID] = true
	return nil
}

// sandboxConfig describes a pod's sandbox; the pod's annotations go along
// (the fake runtime reads its behaviour from them).
func sandboxConfig(pod *corev1.Pod, attempt uint32) *runtime.PodSandboxConfig {
	labels := maps.Clone(pod.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelPodName] = pod.Name
	labels[LabelPodNamespace] = pod.Namespace
	labels[LabelPodUID] = string(pod.UID)
	host := pod.Spec.Hostname
	if host == "" {
		host = pod.Name
	}
	return &runtime.PodSandboxConfig{
		Metadata:    runtime.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID), Attempt: attempt},
		Hostname:    host,
		HostNetwork: pod.Spec.HostNetwork,
		Labels:      labels,
		Annotations: pod.Annotations,
	}
}

// startContainer pulls the image as the pull policy says, then creates
// and starts the container in the pod's newest sandbox.
func (a *Agent) startContainer(ctx context.Context, act Action, observed RuntimeState) error {
	pod := act.Pod
	spec := findContainer(pod, act.Container)
	sb := observed.Pod(act.UID).Sandbox()
	if spec == nil || sb == nil {
		return fmt.Errorf("container %s or its sandbox is gone", act.Container)
	}
	fail := func(reason string, err error) error {
		a.setStartErr(act.UID, act.Container, StartError{Reason: reason, Message: err.Error()})
		return err
	}
	if reason, err := a.ensureImage(ctx, spec); err != nil {
		return fail(reason, err)
	}
	sbCfg := sandboxConfig(pod, sb.Metadata.Attempt)
	id, err := a.cfg.Runtime.CreateContainer(ctx, sb.ID, containerConfig(pod, spec, act.Attempt), sbCfg)
	if err != nil {
		return fail(ReasonCreateContainerError, err)
	}
	if err := a.cfg.Runtime.StartContainer(ctx, id); err != nil {
		_ = a.cfg.Runtime.RemoveContainer(ctx, id)
		return fail(ReasonRunContainerError, err)
	}
	a.clearStartErr(act.UID, act.Container)
	return nil
}

func (a *Agent) clearStartErr(uid types.UID, container string) {
	if m := a.startErrs[uid]; m != nil {
		delete(m, container)
		if len(m) == 0 {
			delete(a.startErrs, uid)
		}
	}
}

// ensureImage makes the container's image present as its pull policy
// says; on failure it returns the waiting reason to report.
func (a *Agent) ensureImage(ctx context.Context, c *corev1.Container) (string, error) {
	if c.ImagePullPolicy != corev1.PullAlways {
		img, err := a.cfg.Runtime.ImageStatus(ctx, c.Image)
		if err != nil {
			return ReasonErrImagePull, err
		}
		if img != nil {
			return "", nil
		}
		if c.ImagePullPolicy == corev1.PullNever {
			return ReasonErrImageNeverPull, fmt.Errorf("container image %q is not present with pull policy of Never", c.Image)
		}
	}
	if _, err := a.cfg.Runtime.PullImage(ctx, c.Image); err != nil {
		return ReasonErrImagePull, err
	}
	return "", nil
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// containerConfig describes one container. Only literal env values are
// passed for now (valueFrom is resolved by a later version).
func containerConfig(pod *corev1.Pod, c *corev1.Container, attempt uint32) *runtime.ContainerConfig {
	cfg := &runtime.ContainerConfig{
		Metadata:   runtime.ContainerMetadata{Name: c.Name, Attempt: attempt},
		Image:      c.Image,
		Command:    c.Command,
		Args:       c.Args,
		WorkingDir: c.WorkingDir,
		Labels: map[string]string{
			LabelPodName: pod.Name, LabelPodNamespace: pod.Namespace, LabelPodUID: string(pod.UID), LabelContainer: c.Name,
		},
		Annotations: map[string]string{"io.kubernetes.container.restartCount": fmt.Sprint(attempt)},
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			cfg.Env = append(cfg.Env, runtime.KeyValue{Key: e.Name, Value: e.Value})
		}
	}
	return cfg
}
