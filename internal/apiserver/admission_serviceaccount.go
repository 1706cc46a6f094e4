package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The ServiceAccount admission plugin, as upstream's: a pod runs as a
// service account ("default" unless named), which must exist, and gets the
// projected volume that carries its token, the cluster CA and its
// namespace.
const (
	// serviceAccountMountPath is where containers find the token volume.
	serviceAccountMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// tokenVolumePrefix starts the token volume's name.
	tokenVolumePrefix = "kube-api-access-"
	// tokenExpirationSeconds is the token's lifetime (upstream's 1 h plus
	// 7 s, which marks the token as one the agent rotates).
	tokenExpirationSeconds = 3607
	// rootCAConfigMap is the CA bundle published in every namespace.
	rootCAConfigMap = "kube-root-ca.crt"
	// mirrorPodAnnotation marks a mirror pod, which the plugin leaves as is.
	mirrorPodAnnotation   = "kubernetes.io/config.mirror"
	defaultServiceAccount = "default"
)

func (s *Server) admitServiceAccount(ctx context.Context, rs *resourceStore, obj runtime.Object) error {
	pod, ok := obj.(*corev1.Pod)
	if !ok || isMirrorPod(pod) {
		return nil
	}
	if pod.Spec.ServiceAccountName == "" {
		pod.Spec.ServiceAccountName = defaultServiceAccount
	}
	sa, err := s.serviceAccount(ctx, pod.Namespace, pod.Spec.ServiceAccountName)
	if err != nil {
		return err
	}
	if sa == nil && pod.Spec.ServiceAccountName == defaultServiceAccount {
		// A departure from upstream, which refuses the pod: the default
		// account may not exist yet (its controller lags the namespace, or
		// runs in another process that is not up). The pod is admitted with
		// the token volume; the agent fills it once the account exists.
		sa = &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: defaultServiceAccount, Namespace: pod.Namespace}}
	}
	if sa == nil {
		notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "serviceaccount"}, pod.Spec.ServiceAccountName)
		return apierrors.NewForbidden(rs.gr, pod.Name, fmt.Errorf("error looking up service account %s/%s: %w",
			pod.Namespace, pod.Spec.ServiceAccountName, notFound))
	}
	applyServiceAccount(pod, sa, s.admission.suffix)
	return nil
}

// serviceAccount finds a service account; a missing one is (nil, nil).
func (s *Server) serviceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	obj, err := s.lookupObject(ctx, serviceAccountGVR, ns, name)
	if err != nil || obj == nil {
		return nil, err
	}
	return obj.(*corev1.ServiceAccount), nil
}

func isMirrorPod(p *corev1.Pod) bool {
	_, ok := p.Annotations[mirrorPodAnnotation]
	return ok
}

// applyServiceAccount mutates a pod for its (existing) service account:
// image pull secrets and the token volume. suffix draws the volume name's
// random part.
func applyServiceAccount(pod *corev1.Pod, sa *corev1.ServiceAccount, suffix func() string) {
	if len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = append([]corev1.LocalObjectReference(nil), sa.ImagePullSecrets...)
	}
	if !automountToken(pod, sa) {
		return
	}
	name := tokenVolumePrefix + suffix()
	mounted := false
	mount := func(cs []corev1.Container) {
		for i := range cs {
			if hasMountAt(cs[i].VolumeMounts, serviceAccountMountPath) {
				continue
			}
			cs[i].VolumeMounts = append(cs[i].VolumeMounts, corev1.VolumeMount{Name: name, ReadOnly: true, MountPath: serviceAccountMountPath})
			mounted = true
		}
	}
	mount(pod.Spec.InitContainers)
	mount(pod.Spec.Containers)
	if mounted {
		pod.Spec.Volumes = append(pod.Spec.Volumes, tokenVolume(name))
	}
}

// automountToken follows the pod's choice, else the service account's,
// else mounts.
func automountToken(pod *corev1.Pod, sa *corev1.ServiceAccount) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

func hasMountAt(mounts []corev1.VolumeMount, path string) bool {
	for _, m := range mounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// tokenVolume is the projected volume of a service account token, the
// cluster CA and the pod's namespace.
func tokenVolume(name string) corev1.Volume {
	expiry := int64(tokenExpirationSeconds)
	mode := int32(0o644)
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{ExpirationSeconds: &expiry, Path: "token"}},
			{ConfigMap: &corev1.ConfigMapProjection{
				LocalObjectReference: corev1.LocalObjectReference{Name: rootCAConfigMap},
				Items:                []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}},
			}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{
				Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"},
			}}}},
		},
	}}}
}
