package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestApplyServiceAccount(t *testing.T) {
	fixed := func() string { return "abcde" }
	pod := func(mutate func(*corev1.Pod)) *corev1.Pod {
		p := &corev1.Pod{Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init"}},
			Containers:     []corev1.Container{{Name: "a"}, {Name: "b"}},
		}}
		if mutate != nil {
			mutate(p)
		}
		return p
	}
	sa := &corev1.ServiceAccount{ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}
	cases := []struct {
		name       string
		pod        *corev1.Pod
		sa         *corev1.ServiceAccount
		wantVolume bool
		// wantMounts is the number of containers mounting the new volume.
		wantMounts int
	}{
		{"mounts in every container", pod(nil), sa, true, 3},
		{"pod opts out", pod(func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptr.To(false) }), sa, false, 0},
		{"account opts out", pod(nil), &corev1.ServiceAccount{AutomountServiceAccountToken: ptr.To(false)}, false, 0},
		{"pod overrides account", pod(func(p *corev1.Pod) { p.Spec.AutomountServiceAccountToken = ptr.To(true) }),
			&corev1.ServiceAccount{AutomountServiceAccountToken: ptr.To(false)}, true, 3},
		{"already mounted in one container", pod(func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "own", MountPath: serviceAccountMountPath}}
		}), sa, true, 2},
		{"already mounted everywhere", pod(func(p *corev1.Pod) {
			m := []corev1.VolumeMount{{Name: "own", MountPath: serviceAccountMountPath}}
			p.Spec.InitContainers[0].VolumeMounts, p.Spec.Containers[0].VolumeMounts, p.Spec.Containers[1].VolumeMounts = m, m, m
		}), sa, false, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			applyServiceAccount(tc.pod, tc.sa, fixed)
			var vol *corev1.Volume
			for i := range tc.pod.Spec.Volumes {
				if tc.pod.Spec.Volumes[i].Name == "kube-api-access-abcde" {
					vol = &tc.pod.Spec.Volumes[i]
				}
			}
			if (vol != nil) != tc.wantVolume {
				t.Fatalf("token volume present = %v, want %v (%+v)", vol != nil, tc.wantVolume, tc.pod.Spec.Volumes)
			}
			mounts := 0
			for _, cs := range [][]corev1.Container{tc.pod.Spec.InitContainers, tc.pod.Spec.Containers} {
				for _, c := range cs {
					for _, m := range c.VolumeMounts {
						if m.Name == "kube-api-access-abcde" {
							if !m.ReadOnly || m.MountPath != serviceAccountMountPath {
								t.Errorf("mount %+v", m)
							}
							mounts++
						}
					}
				}
			}
			if mounts != tc.wantMounts {
				t.Errorf("%d mounts, want %d", mounts, tc.wantMounts)
			}
			if vol != nil {
				src := vol.Projected.Sources
				if len(src) != 3 || *src[0].ServiceAccountToken.ExpirationSeconds != 3607 || src[0].ServiceAccountToken.Path != "token" ||
					src[1].ConfigMap.Name != "kube-root-ca.crt" || src[1].ConfigMap.Items[0].Key != "ca.crt" ||
					src[2].DownwardAPI.Items[0].FieldRef.FieldPath != "metadata.namespace" {
					t.Errorf("projected sources %+v", src)
				}
			}
		})
	}
	p := pod(nil)
	applyServiceAccount(p, sa, fixed)
	if len(p.Spec.ImagePullSecrets) != 1 || p.Spec.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("image pull secrets %v, want the account's", p.Spec.ImagePullSecrets)
	}
}

func TestAddDefaultTolerations(t *testing.T) {
	cases := []struct {
		name string
		have []corev1.Toleration
		want int // tolerations after
		// added lists the keys that must have been added with 300 s.
		added []string
	}{
		{"none", nil, 2, []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable}},
		{"not-ready already", []corev1.Toleration{{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}}, 2, []string{corev1.TaintNodeUnreachable}},
		{"wildcard", []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, 1, nil},
		{"NoSchedule only does not count", []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}, 3,
			[]string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tc.have}}
			addDefaultTolerations(p)
			if len(p.Spec.Tolerations) != tc.want {
				t.Fatalf("tolerations %+v, want %d", p.Spec.Tolerations, tc.want)
			}
			for _, key := range tc.added {
				found := false
				for _, tol := range p.Spec.Tolerations[len(tc.have):] {
					if tol.Key == key && tol.Effect == corev1.TaintEffectNoExecute && tol.Operator == corev1.TolerationOpExists &&
						tol.TolerationSeconds != nil && *tol.TolerationSeconds == 300 {
						found = true
					}
				}
				if !found {
					t.Errorf("no default toleration for %s in %+v", key, p.Spec.Tolerations)
				}
			}
		})
	}
}
