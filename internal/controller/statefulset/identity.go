package statefulset

import (
	"maps"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiffkube/skiff/internal/controller/kit"
)

// kind is the StatefulSet's group, version and kind, for owner references.
func kind() schema.GroupVersionKind { return appsv1.SchemeGroupVersion.WithKind("StatefulSet") }

// podName is the stable name of the set's pod with the ordinal.
func podName(set *appsv1.StatefulSet, ordinal int) string {
	return set.Name + "-" + strconv.Itoa(ordinal)
}

// ordinalOf parses the ordinal of one of the set's pods from its name; ok
// is false for names that are not <set>-<non-negative integer>.
func ordinalOf(set *appsv1.StatefulSet, pod *corev1.Pod) (int, bool) {
	rest, found := strings.CutPrefix(pod.Name, set.Name+"-")
	if !found || rest == "" || (len(rest) > 1 && rest[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(rest)
	return n, err == nil && n >= 0
}

// startOrdinal is spec.ordinals.start, 0 when unset.
func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

// replicas is spec.replicas, 1 when unset.
func replicas(set *appsv1.StatefulSet) int {
	if set.Spec.Replicas != nil {
		return int(*set.Spec.Replicas)
	}
	return 1
}

// claimName is the name of the claim from template t for a pod.
func claimName(t *corev1.PersistentVolumeClaim, pod string) string {
	return t.Name + "-" + pod
}

// newPod builds the set's pod for an ordinal from a template (the current
// or the update revision's) labelled with that revision: stable name and
// hostname, the governing Service as subdomain, the pod-name and
// pod-index labels, and volumes pointing at its claims.
func newPod(set *appsv1.StatefulSet, tmpl *corev1.PodTemplateSpec, revision string, ordinal int) *corev1.Pod {
	name := podName(set, ordinal)
	pod := kit.PodFromTemplate(tmpl, set.Namespace, name, kit.ControllerRef(set, kind()))
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[appsv1.StatefulSetPodNameLabel] = name
	pod.Labels[appsv1.PodIndexLabel] = strconv.Itoa(ordinal)
	pod.Labels[appsv1.StatefulSetRevisionLabel] = revision
	pod.Spec.Hostname = name
	if set.Spec.ServiceName != "" {
		pod.Spec.Subdomain = set.Spec.ServiceName
	}
	for i := range set.Spec.VolumeClaimTemplates {
		t := &set.Spec.VolumeClaimTemplates[i]
		vol := corev1.Volume{Name: t.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claimName(t, name)},
		}}
		replaced := false
		for j := range pod.Spec.Volumes {
			if pod.Spec.Volumes[j].Name == t.Name {
				pod.Spec.Volumes[j], replaced = vol, true
			}
		}
		if !replaced {
			pod.Spec.Volumes = append(pod.Spec.Volumes, vol)
		}
	}
	return pod
}

// newClaims builds the claims of a pod from the set's templates, labelled
// with the template's labels and the set's selector labels.
func newClaims(set *appsv1.StatefulSet, pod string) []*corev1.PersistentVolumeClaim {
	claims := make([]*corev1.PersistentVolumeClaim, 0, len(set.Spec.VolumeClaimTemplates))
	for i := range set.Spec.VolumeClaimTemplates {
		t := &set.Spec.VolumeClaimTemplates[i]
		lbls := maps.Clone(t.Labels)
		if lbls == nil {
			lbls = map[string]string{}
		}
		if set.Spec.Selector != nil {
			maps.Copy(lbls, set.Spec.Selector.MatchLabels)
		}
		claims = append(claims, &corev1.PersistentVolumeClaim{
			ObjectMeta: metav1.ObjectMeta{
				Name:        claimName(t, pod),
				Namespace:   set.Namespace,
				Labels:      lbls,
				Annotations: maps.Clone(t.Annotations),
			},
			Spec: *t.Spec.DeepCopy(),
		})
	}
	return claims
}

// retention returns whether claims go with the set when it is deleted
// and with their pod when the set scales down (policy Delete).
func retention(set *appsv1.StatefulSet) (whenDeleted, whenScaled bool) {
	p := set.Spec.PersistentVolumeClaimRetentionPolicy
	if p == nil {
		return false, false
	}
	return p.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType,
		p.WhenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType
}

// claimOwners computes a claim's owner references under the retention
// policy: a reference to the set when it is deleted with it, a reference
// to the pod when it goes with a pod scaled away (condemned), and any
// unrelated references kept as they are.
func claimOwners(set *appsv1.StatefulSet, pod *corev1.Pod, condemned bool, refs []metav1.OwnerReference) []metav1.OwnerReference {
	whenDeleted, whenScaled := retention(set)
	var out []metav1.OwnerReference
	for _, r := range refs {
		if r.UID == set.UID || pod != nil && r.Kind == "Pod" && (r.UID == pod.UID || r.Name == pod.Name) {
			continue
		}
		out = append(out, r)
	}
	if whenDeleted {
		out = append(out, ownerRef(set.Name, set.UID, kind()))
	}
	if whenScaled && condemned && pod != nil {
		out = append(out, ownerRef(pod.Name, pod.UID, corev1.SchemeGroupVersion.WithKind("Pod")))
	}
	return out
}

// ownerRef is a plain (not controller) owner reference.
func ownerRef(name string, uid types.UID, gvk schema.GroupVersionKind) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind, Name: name, UID: uid}
}
