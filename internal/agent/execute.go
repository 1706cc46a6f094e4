package agent

import (
	"context"
	"fmt"
	"log/slog"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
			if err = a.runSandbox(ctx, act); err != nil {
				a.failedStarts[string(act.UID)+"/"] = true // retried by the next sync
			}
		case StartContainer:
			if err = a.startContainer(ctx, act, observed); err != nil {
				a.failedStarts[string(act.UID)+"/"+act.Container] = true // retried by the next sync
			}
		case KillContainer:
			a.stopContainer(act.Pod, act.UID, act.ID, observed, act.Grace, "")
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
	if isStatic(pod) {
		a.forgetStatic(pod.UID) // removed from its manifest and stopped
		return nil
	}
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

func (a *Agent) clearStartErr(uid types.UID, container string) {
	if m := a.startErrs[uid]; m != nil {
		delete(m, container)
		if len(m) == 0 {
			delete(a.startErrs, uid)
		}
	}
}
