package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiffkube/skiff/internal/agent/envvars"
	"github.com/skiffkube/skiff/internal/agent/volume"
	"github.com/skiffkube/skiff/internal/runtime"
)

// More waiting reasons and event reasons.
const (
	ReasonCreateContainerConfigError = "CreateContainerConfigError"
	EventFailedCreatePodSandBox      = "FailedCreatePodSandBox"
	EventMissingClusterDNS           = "MissingClusterDNS"
)

// runSandbox sets up the pod's volumes, then runs its sandbox.
func (a *Agent) runSandbox(ctx context.Context, act Action) error {
	pod := act.Pod
	if _, err := a.ensureVolumes(ctx, pod, false); err != nil {
		return err
	}
	cfg := a.sandboxConfig(pod, act.Attempt)
	if _, err := a.cfg.Runtime.RunPodSandbox(ctx, cfg); err != nil {
		a.setStartErr(act.UID, "", StartError{Reason: ReasonCreatePodSandboxError, Message: err.Error()})
		a.events.event(pod, "", corev1.EventTypeWarning, EventFailedCreatePodSandBox, "Failed to create pod sandbox: %v", err)
		return err
	}
	a.clearStartErr(act.UID, "")
	return nil
}

// ensureVolumes sets up the pod's volumes once (and again when force is
// set) and returns their host paths. Failures are kept as the pod's
// start error, so the pod waits and is retried, and reported in a
// FailedMount event.
func (a *Agent) ensureVolumes(ctx context.Context, pod *corev1.Pod, force bool) (map[string]string, error) {
	if len(pod.Spec.Volumes) == 0 {
		return nil, nil
	}
	if paths, ok := a.volumes[pod.UID]; ok && !force {
		return paths, nil
	}
	fail := func(err error) (map[string]string, error) {
		a.setStartErr(pod.UID, "", StartError{Reason: ReasonContainerCreating, Message: err.Error()})
		a.events.event(pod, "", corev1.EventTypeWarning, EventFailedMount, "%v", err)
		return nil, err
	}
	if name, kind := volume.Unsupported(pod); name != "" {
		return fail(fmt.Errorf("Unable to attach or mount volumes: unmounted volumes=[%s]: volume %q: %w: %s is not supported by this node", name, name, volume.ErrUnsupported, kind))
	}
	src, err := a.volumeSources(ctx, pod)
	if err != nil {
		return fail(fmt.Errorf("MountVolume.SetUp failed: %w", err))
	}
	src.Info = a.podInfo(pod, "")
	now := a.cfg.Clock.Now()
	paths, err := a.volumeManager().Setup(pod, src, now)
	if err != nil {
		return fail(err)
	}
	a.volumes[pod.UID] = paths
	a.volumesAt[pod.UID] = now
	a.clearStartErr(pod.UID, "")
	return paths, nil
}

func (a *Agent) volumeManager() volume.Manager {
	return volume.Manager{Root: a.cfg.DataDir + "/pods"}
}

// sandboxConfig describes a pod's sandbox; the pod's annotations go along
// (the fake runtime reads its behaviour from them).
func (a *Agent) sandboxConfig(pod *corev1.Pod, attempt uint32) *runtime.PodSandboxConfig {
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
	dns, warning := podDNS(pod, a.dnsSettings(pod))
	if warning != "" {
		a.events.event(pod, "", corev1.EventTypeWarning, EventMissingClusterDNS, "%s", warning)
	}
	return &runtime.PodSandboxConfig{
		Metadata:     runtime.PodSandboxMetadata{Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID), Attempt: attempt},
		Hostname:     host,
		HostNetwork:  pod.Spec.HostNetwork,
		LogDirectory: podLogDir(a.cfg.DataDir, pod),
		DNS:          dns,
		PortMappings: portMappings(pod),
		Sysctls:      sysctls(pod),
		Security:     podSecurity(pod),
		Labels:       labels,
		Annotations:  pod.Annotations,
	}
}

// dnsSettings are the node's DNS facts; the host's resolv.conf is read
// the first time a pod needs it.
func (a *Agent) dnsSettings(pod *corev1.Pod) DNSSettings {
	s := DNSSettings{ClusterDNS: a.cfg.ClusterDNS, ClusterDomain: a.cfg.ClusterDomain}
	needHost := pod.Spec.DNSPolicy == corev1.DNSDefault || len(a.cfg.ClusterDNS) == 0 ||
		(pod.Spec.HostNetwork && pod.Spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet && pod.Spec.DNSPolicy != corev1.DNSNone)
	if needHost && pod.Spec.DNSPolicy != corev1.DNSNone && !a.hostDNSRead {
		a.hostDNSRead = true
		if data, err := os.ReadFile(a.cfg.ResolvConf); err == nil {
			a.hostDNS = ParseResolvConf(string(data))
		}
	}
	if pod.Spec.DNSPolicy != corev1.DNSNone {
		s.Host = a.hostDNS
	}
	return s
}

// startContainer pulls the image as the pull policy says, then creates
// and starts the container in the pod's newest sandbox and runs its
// postStart hook.
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
	paths, err := a.ensureVolumes(ctx, pod, false)
	if err != nil {
		return err
	}
	cfg, err := a.containerConfig(ctx, pod, spec, act.Attempt, sb.IP, paths)
	if err != nil {
		a.events.event(pod, spec.Name, corev1.EventTypeWarning, EventFailed, "Error: %v", err)
		return fail(ReasonCreateContainerConfigError, err)
	}
	if reason, err := a.ensureImage(ctx, pod, spec); err != nil {
		a.events.event(pod, spec.Name, corev1.EventTypeWarning, EventFailed, "Error: %s", reason)
		return fail(reason, err)
	}
	id, err := a.cfg.Runtime.CreateContainer(ctx, sb.ID, cfg, a.sandboxConfig(pod, sb.Metadata.Attempt))
	if err != nil {
		a.events.event(pod, spec.Name, corev1.EventTypeWarning, EventFailed, "Error: %v", err)
		return fail(ReasonCreateContainerError, err)
	}
	a.events.event(pod, spec.Name, corev1.EventTypeNormal, EventCreated, "Created container: %s", spec.Name)
	if err := a.cfg.Runtime.StartContainer(ctx, id); err != nil {
		_ = a.cfg.Runtime.RemoveContainer(ctx, id)
		a.events.event(pod, spec.Name, corev1.EventTypeWarning, EventFailed, "Error: %v", err)
		return fail(ReasonRunContainerError, err)
	}
	a.events.event(pod, spec.Name, corev1.EventTypeNormal, EventStarted, "Started container %s", spec.Name)
	a.clearStartErr(act.UID, act.Container)
	if spec.Lifecycle != nil && spec.Lifecycle.PostStart != nil {
		a.postStart(pod, spec, id, sb.IP)
	}
	return nil
}

// containerConfig describes one container: its resolved environment,
// mounts, resources, security and log path. Errors are configuration
// errors (CreateContainerConfigError).
func (a *Agent) containerConfig(ctx context.Context, pod *corev1.Pod, c *corev1.Container, attempt uint32, podIP string, paths map[string]string) (*runtime.ContainerConfig, error) {
	env, err := a.resolveEnv(ctx, pod, c, podIP)
	if err != nil {
		var ce *envvars.ConfigError
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, err
	}
	if len(env.Skipped) > 0 {
		a.events.event(pod, c.Name, corev1.EventTypeWarning, EventInvalidEnvVarNames,
			"Keys %v from the EnvFrom were skipped since they are invalid environment variable names.", env.Skipped)
	}
	mounts, err := a.containerMounts(pod, c, paths, env.Env)
	if err != nil {
		return nil, err
	}
	if m := a.terminationMount(pod, c, attempt); m != nil {
		mounts = append(mounts, *m)
	}
	return &runtime.ContainerConfig{
		Metadata:   runtime.ContainerMetadata{Name: c.Name, Attempt: attempt},
		Image:      c.Image,
		Command:    env.Command,
		Args:       env.Args,
		Env:        env.Env,
		WorkingDir: c.WorkingDir,
		Labels: map[string]string{
			LabelPodName: pod.Name, LabelPodNamespace: pod.Namespace, LabelPodUID: string(pod.UID), LabelContainer: c.Name,
		},
		Annotations: map[string]string{"io.kubernetes.container.restartCount": fmt.Sprint(attempt)},
		Mounts:      mounts,
		LogPath:     containerLogPath(c.Name, attempt),
		Resources:   containerResources(pod, c, memoryOf(a.cfg.Capacity)),
		Security:    containerSecurity(pod, c),
		Stdin:       c.Stdin,
		TTY:         c.TTY,
	}, nil
}

// containerMounts resolves volumeMounts (subPathExpr against the
// container's environment) and creates missing subPaths.
func (a *Agent) containerMounts(pod *corev1.Pod, c *corev1.Container, paths map[string]string, env []runtime.KeyValue) ([]runtime.Mount, error) {
	if len(c.VolumeMounts) == 0 {
		return nil, nil
	}
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		vars[kv.Key] = kv.Value
	}
	expand := func(s string) string {
		return envvars.Expand(s, func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	}
	ms, err := volume.Mounts(pod, c, paths, expand)
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Mount, 0, len(ms))
	for _, m := range ms {
		if m.SubPath != "" && !m.ReadOnly {
			if m.HostPath, err = volume.SubPath(m.VolumePath, m.SubPath); err != nil {
				return nil, err
			}
		}
		out = append(out, m.Mount)
	}
	return out, nil
}

// ensureImage makes the container's image present as its pull policy
// says, holding back pulls that failed lately; on failure it returns the
// waiting reason to report.
func (a *Agent) ensureImage(ctx context.Context, pod *corev1.Pod, c *corev1.Container) (string, error) {
	present := false
	if c.ImagePullPolicy != corev1.PullAlways {
		img, err := a.cfg.Runtime.ImageStatus(ctx, c.Image)
		if err != nil {
			return ReasonErrImagePull, err
		}
		present = img != nil
	}
	switch decidePull(c.ImagePullPolicy, c.Image, present) {
	case usePresent:
		a.events.event(pod, c.Name, corev1.EventTypeNormal, EventPulled, "Container image %q already present on machine", c.Image)
		return "", nil
	case neverPull:
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		a.events.event(pod, c.Name, corev1.EventTypeWarning, ReasonErrImageNeverPull, "%s", msg)
		return ReasonErrImageNeverPull, errors.New(msg)
	}
	key := pullKey(pod.UID, c.Image)
	now := a.cfg.Clock.Now()
	if f := a.pulls.waiting(key, now); f != nil {
		if !f.reported {
			f.reported = true
			a.events.event(pod, c.Name, corev1.EventTypeNormal, EventBackOffPullImage, "Back-off pulling image %q", c.Image)
		}
		return ReasonImagePullBackOff, fmt.Errorf("Back-off pulling image %q: %s: %s", c.Image, ReasonErrImagePull, f.message)
	}
	a.events.event(pod, c.Name, corev1.EventTypeNormal, EventPulling, "Pulling image %q", c.Image)
	if _, err := a.cfg.Runtime.PullImage(ctx, c.Image); err != nil {
		a.pulls.failed(key, err.Error(), a.cfg.Clock.Now())
		a.events.event(pod, c.Name, corev1.EventTypeWarning, EventFailed, "Failed to pull image %q: %v", c.Image, err)
		return ReasonErrImagePull, err
	}
	a.pulls.succeeded(key)
	a.events.event(pod, c.Name, corev1.EventTypeNormal, EventPulled, "Successfully pulled image %q in %s", c.Image, a.cfg.Clock.Since(now).Round(time.Millisecond))
	return "", nil
}
