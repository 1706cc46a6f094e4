package node

import (
	corev1 "k8s.io/api/core/v1"
)

// serviceAccountOf is the service account a pod runs as.
func serviceAccountOf(p *corev1.Pod) string {
	if p.Spec.ServiceAccountName != "" {
		return p.Spec.ServiceAccountName
	}
	return "default"
}

// references reports whether pod uses the secret, configmap or
// persistent volume claim (resource) called name.
func references(p *corev1.Pod, resource, name string) bool {
	found := false
	visit := func(kind, n string) {
		if kind == resource && n == name {
			found = true
		}
	}
	visitReferences(p, visit)
	return found
}

// visitReferences calls visit for every secret, configmap and claim the
// pod names: volumes (projected ones included), env, envFrom and image
// pull secrets.
func visitReferences(p *corev1.Pod, visit func(resource, name string)) {
	for _, s := range p.Spec.ImagePullSecrets {
		visit("secrets", s.Name)
	}
	for i := range p.Spec.Volumes {
		visitVolume(p.Name, &p.Spec.Volumes[i], visit)
	}
	containers := append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...)
	for i := range p.Spec.EphemeralContainers {
		containers = append(containers, corev1.Container{Env: p.Spec.EphemeralContainers[i].Env, EnvFrom: p.Spec.EphemeralContainers[i].EnvFrom})
	}
	for _, c := range containers {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				visit("secrets", e.SecretRef.Name)
			}
			if e.ConfigMapRef != nil {
				visit("configmaps", e.ConfigMapRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				visit("secrets", r.Name)
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				visit("configmaps", r.Name)
			}
		}
	}
}

// visitVolume visits the objects one volume names.
func visitVolume(pod string, v *corev1.Volume, visit func(resource, name string)) {
	switch {
	case v.Secret != nil:
		visit("secrets", v.Secret.SecretName)
	case v.ConfigMap != nil:
		visit("configmaps", v.ConfigMap.Name)
	case v.PersistentVolumeClaim != nil:
		visit("persistentvolumeclaims", v.PersistentVolumeClaim.ClaimName)
	case v.Ephemeral != nil:
		visit("persistentvolumeclaims", pod+"-"+v.Name)
	case v.Projected != nil:
		for _, s := range v.Projected.Sources {
			if s.Secret != nil {
				visit("secrets", s.Secret.Name)
			}
			if s.ConfigMap != nil {
				visit("configmaps", s.ConfigMap.Name)
			}
		}
	}
	// Other volume kinds that name secrets (CSI, iSCSI, ...) are not
	// supported by Skiff's agent.
}
